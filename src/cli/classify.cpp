// classify.cpp — `lmask classify`: top-k classes of images, optionally with
// part of each image removed by a masking method.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include <fmt/core.h>

#include "backend_options.h"
#include "commands.h"
#include "json.h"
#include "lmask/error.h"
#include "lmask/finite_logits.h"
#include "lmask/image.h"
#include "lmask/mask_builders.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/regular_file.h"
#include "memory_check.h"
#include "number_options.h"

namespace lmask::cli {

namespace {

struct ClassifyOptions {
  std::string weights = "weights/resnet50_fmnist.h5";
  std::vector<std::string> images;
  int topk = 5;
  std::string labels;
  bool json = false;
  std::string method = "layer";
  std::string mask_png;
  bool invert = false;
  int patches = 16;
  double remove = -1;  // < 0: no random patch mask
  std::uint64_t seed = 0;
  std::string save_masked;
  BackendOptions backend;
};

// A labels file is a few bytes per class: far below this, and a file past it
// (or /dev/zero, or a FIFO) is not one.
constexpr std::uint64_t kMaxLabelsBytes = 16 << 20;

// One printable name per class, in class order (CRLF line ends are fine).
// Another number of lines than classes is a file for another model: its
// names would be printed against the wrong classes.
std::vector<std::string> read_labels(const std::string& path, int classes) {
  std::istringstream in(read_regular_file(path, kMaxLabelsBytes));
  std::vector<std::string> labels;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::any_of(line.begin(), line.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
      throw InputError(path, "line " + std::to_string(labels.size() + 1) +
                                 " holds a control character; expected one printable class name per line");
    labels.push_back(line);
  }
  if (labels.size() != std::size_t(classes))
    throw InputError(path, "has " + std::to_string(labels.size()) + " lines but the model has " +
                               std::to_string(classes) + " classes; expected one class name per line, in class order");
  return labels;
}

// softmax of logits [1,C,1,1] -> (class, probability), best first.
std::vector<std::pair<int, double>> top_classes(const Tensor& logits, int k) {
  const int classes = logits.c();
  const float* z = logits.data();
  const float zmax = *std::max_element(z, z + classes);
  double sum = 0.0;
  for (int c = 0; c < classes; ++c) sum += std::exp(double(z[c] - zmax));
  std::vector<int> order(classes);
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, classes);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [z](int a, int b) { return z[a] > z[b]; });
  std::vector<std::pair<int, double>> out;
  for (int i = 0; i < k; ++i) out.emplace_back(order[i], std::exp(double(z[order[i]] - zmax)) / sum);
  return out;
}

// "out.png" for one image, "out-<i>.png" when several are classified.
std::string numbered(const std::string& path, std::size_t index, std::size_t count) {
  if (count == 1) return path;
  const auto dot = path.rfind('.');
  const std::string stem = dot == std::string::npos ? path : path.substr(0, dot);
  const std::string ext = dot == std::string::npos ? ".png" : path.substr(dot);
  return stem + "-" + std::to_string(index) + ext;
}

void run_classify(const ClassifyOptions& o) {
  Model model = Model::load(o.weights);
  const Weights& meta = model.meta();
  const bool masked = !o.mask_png.empty() || o.remove >= 0;
  const int crop = meta.input_size;
  require_memory_for(model, 1, crop, crop, masked, o.weights);  // input_size may be up to kMaxInputSize
  open_backend(o.backend, model);
  const std::vector<std::string> labels =
      o.labels.empty() ? meta.class_names : read_labels(o.labels, model.num_classes());
  const auto method = make_masking_method(o.method);

  for (std::size_t i = 0; i < o.images.size(); ++i) {
    const std::string& path = o.images[i];
    const ImageU8 raw = read_image(path);
    const Tensor img01 = preprocess_01(raw, meta.resize_size, crop, path);
    Tensor logits;
    if (masked) {
      const Mask m = !o.mask_png.empty()
                         ? mask_from_png(o.mask_png, raw.width, raw.height, meta.resize_size, crop, o.invert)
                         : random_patch_mask(crop, crop, o.patches, o.remove, o.seed);
      // A drawn mask that removes everything makes the answer the same for
      // every image: a wrong file or a forgotten/extra --invert, not a question.
      // (--remove 1 asks for that on purpose and is allowed.)
      if (!o.mask_png.empty() && m.count_visible(0) == 0)
        throw InputError(o.mask_png, std::string("mask removes every pixel the model sees (all ") +
                                         (o.invert ? "non-zero with --invert" : "zero") +
                                         " after resize and crop); the prediction would not depend on the image");
      logits = method->logits(model, img01, m);
      if (!o.save_masked.empty())
        write_png(numbered(o.save_masked, i, o.images.size()),
                  tensor01_to_image(method->shown(model, img01, m), 0));
    } else {
      Tensor x = img01.clone();
      normalize(x, meta.mean, meta.std);
      logits = model.forward(x);
    }
    require_finite_logits(logits, o.weights);
    const auto top = top_classes(logits, o.topk);
    auto label = [&](int c) {
      return c < int(labels.size()) ? labels[c] : "class " + std::to_string(c);
    };
    if (o.json) {
      std::string items;
      for (const auto& [c, p] : top)
        items += fmt::format("{}{{\"class\":{},\"prob\":{:.6g},\"label\":{}}}", items.empty() ? "" : ",", c,
                             p, json_string(label(c)));
      fmt::print("{{\"image\":{},\"method\":{},\"topk\":[{}]}}\n", json_string(path),
                 json_string(masked ? method->name() : "none"), items);
    } else {
      fmt::print("{}{}\n", path, masked ? " (masked: " + method->name() + ")" : "");
      for (std::size_t r = 0; r < top.size(); ++r)
        fmt::print("  {}. {:6.4f}  {}\n", r + 1, top[r].second, label(top[r].first));
    }
  }
}

}  // namespace

void add_classify(CLI::App& app) {
  auto o = std::make_shared<ClassifyOptions>();
  CLI::App* cmd = app.add_subcommand("classify", "Top-k classes of images, optionally masked");
  cmd->add_option("images", o->images, "PNG or JPEG images")->required();
  cmd->add_option("--weights", o->weights, "HDF5 weights")->capture_default_str();
  cmd->add_option("--topk", o->topk, "classes to print")->transform(Integer(1, 100000))->capture_default_str();
  cmd->add_option("--labels", o->labels, "class names, one per line (default: from the weights)");
  cmd->add_flag("--json", o->json, "one JSON object per image");
  cmd->add_option("--method", o->method,
                  "masking method: layer, layer-renorm, grey, black, blur, grey-smooth, mean, colour:R,G,B")
      ->capture_default_str();
  auto* mask = cmd->add_option("--mask", o->mask_png, "mask PNG at the image's size: non-zero = visible");
  cmd->add_flag("--invert", o->invert, "with --mask: non-zero = removed")->needs(mask);
  auto* remove = cmd->add_option("--remove", o->remove, "remove this fraction of random patches")
                     ->transform(Real(0, 1))->excludes(mask);
  cmd->add_option("--patches", o->patches, "patch size in pixels for --remove")
      ->transform(Integer(1, 4096))->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the random patch order")
      ->transform(Unsigned<std::uint64_t>())->capture_default_str();
  cmd->add_option("--save-masked", o->save_masked, "write what the model is shown as PNG")
      ->check([remove, mask](const std::string&) {
        return remove->count() || mask->count() ? "" : "--save-masked needs --mask or --remove";
      });
  add_backend_options(cmd, o->backend);
  cmd->callback([o] { run_classify(*o); });
}

}  // namespace lmask::cli
