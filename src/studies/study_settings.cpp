// study_settings.cpp — the studies' defaults, the --methods list syntax and --shard's i/n.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "lmask/error.h"
#include "lmask/study.h"

namespace lmask {

int default_patch_size(int input_size) {
  return std::max(1, static_cast<int>(std::lround(16.0 * input_size / 224.0)));
}

std::vector<double> default_removal_fractions() {
  std::vector<double> f;
  for (int i = 0; i <= 10; ++i) f.push_back(i / 10.0);  // i / 10.0, not sums of 0.1: exact decimals
  return f;
}

std::vector<std::string> default_study_methods() {
  return {"black", "grey", "grey-smooth", "blur", "layer", "layer-renorm"};
}

std::vector<std::string> default_lime_methods() {
  auto m = default_study_methods();
  m.push_back("segment-mean");
  return m;
}

std::vector<int> lime_ablation_ks() { return {0, 1, 2, 4, 8}; }

std::vector<std::string> study_names() { return {"removal", "leakage", "lime", "linearity"}; }

std::vector<std::string> default_methods_for(const std::string& study) {
  return study == "lime" ? default_lime_methods() : default_study_methods();
}

std::vector<std::string> parse_method_list(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream ss(list);
  std::string part;
  while (std::getline(ss, part, ',')) parts.push_back(part);
  std::vector<std::string> methods;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string name = parts[i];
    // colour:R,G,B has commas of its own: it takes the next two parts along.
    if (name.rfind("colour:", 0) == 0 || name.rfind("color:", 0) == 0) {
      if (i + 2 >= parts.size()) throw InputError("--methods", "'" + name + "': expected colour:R,G,B");
      name += "," + parts[i + 1] + "," + parts[i + 2];
      i += 2;
    }
    if (name.empty()) throw InputError("--methods", "empty method name in '" + list + "'");
    methods.push_back(name);
  }
  if (methods.empty()) throw InputError("--methods", "no masking methods given");
  return methods;
}

StudyShard parse_shard(const std::string& text) {
  const std::size_t slash = text.find('/');
  auto number = [&](const std::string& part) {
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos)
      throw InputError("--shard", "'" + text + "' is not i/n (e.g. 0/4)");
    return std::stoi(part);
  };
  if (slash == std::string::npos) throw InputError("--shard", "'" + text + "' is not i/n (e.g. 0/4)");
  const StudyShard shard{number(text.substr(0, slash)), number(text.substr(slash + 1))};
  if (shard.count < 1 || shard.index >= shard.count)
    throw InputError("--shard", "'" + text + "': the shards of n are 0/n .. (n-1)/n");
  return shard;
}

}  // namespace lmask
