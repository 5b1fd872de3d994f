// json_writer.h — the little JSON a study's settings file needs: an object of
// keys in insertion order, one per line, holding strings, numbers, arrays and
// nested objects (each written on one line). Not a parser, not a general JSON library.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

namespace lmask::study {

inline std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += char(c);
    else if (c == '\n') out += "\\n";
    else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
    else out += char(c);
  }
  return out + "\"";
}

// Shortest round-trip text; JSON has no NaN or Inf, so those become null.
inline std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

class JsonObject {
 public:
  JsonObject& str(const std::string& key, const std::string& v) { return raw(key, json_quote(v)); }
  JsonObject& num(const std::string& key, double v) { return raw(key, json_number(v)); }
  JsonObject& count(const std::string& key, unsigned long long v) { return raw(key, std::to_string(v)); }
  JsonObject& strings(const std::string& key, const std::vector<std::string>& v) {
    std::string a;
    for (const auto& s : v) a += (a.empty() ? "" : ", ") + json_quote(s);
    return raw(key, "[" + a + "]");
  }
  JsonObject& numbers(const std::string& key, const std::vector<double>& v) {
    std::string a;
    for (double d : v) a += (a.empty() ? "" : ", ") + json_number(d);
    return raw(key, "[" + a + "]");
  }
  JsonObject& object(const std::string& key, const JsonObject& o) { return raw(key, o.one_line()); }
  // Already-formatted JSON.
  JsonObject& raw(const std::string& key, const std::string& json) {
    fields_.push_back(json_quote(key) + ": " + json);
    return *this;
  }

  // One field per line, for the file.
  std::string text() const {
    std::string out = "{\n";
    for (std::size_t i = 0; i < fields_.size(); ++i) out += "  " + fields_[i] + (i + 1 < fields_.size() ? ",\n" : "\n");
    return out + "}\n";
  }
  std::string one_line() const {
    std::string out;
    for (const auto& f : fields_) out += (out.empty() ? "" : ", ") + f;
    return "{" + out + "}";
  }

 private:
  std::vector<std::string> fields_;
};

}  // namespace lmask::study
