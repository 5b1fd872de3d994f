// partial_state.cpp — see partial_state.h.
#include "partial_state.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "lmask/error.h"

namespace lmask::study {

StateWriter& StateWriter::count(std::size_t v) {
  out_ += std::to_string(v) + "\n";
  return *this;
}

StateWriter& StateWriter::num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a\n", v);
  out_ += buf;
  return *this;
}

StateWriter& StateWriter::sum(const ExactSum& v) {
  count(v.parts().size());
  for (double p : v.parts()) num(p);
  return num(v.non_finite());
}

StateWriter& StateWriter::text(const std::string& v) {
  std::string one_line = v;
  for (char& ch : one_line)
    if (ch == '\n' || ch == '\r') ch = ' ';
  out_ += one_line + "\n";
  return *this;
}

StateWriter& StateWriter::common(const StudyCommon& c) {
  count(c.images).count(c.skipped).count(c.clean_correct);
  num(c.timings.total).num(c.timings.clean).count(c.timings.methods.size());
  for (const auto& m : c.timings.methods) num(m.second);
  return *this;
}

StateReader::StateReader(const std::string& text, std::string where) : text_(text), where_(std::move(where)) {}

std::string StateReader::line() {
  const std::size_t end = text_.find('\n', pos_);
  if (end == std::string::npos) throw InputError(where_, "partial state ends too early (damaged file?)");
  std::string l = text_.substr(pos_, end - pos_);
  pos_ = end + 1;
  return l;
}

std::size_t StateReader::count() {
  const std::string l = line();
  if (l.empty() || l.find_first_not_of("0123456789") != std::string::npos)
    throw InputError(where_, "partial state: '" + l + "' is not a count (damaged file?)");
  errno = 0;
  const unsigned long long v = std::strtoull(l.c_str(), nullptr, 10);
  if (errno == ERANGE) throw InputError(where_, "partial state: count '" + l + "' out of range");
  return static_cast<std::size_t>(v);
}

double StateReader::num() {
  const std::string l = line();
  char* end = nullptr;
  const double v = std::strtod(l.c_str(), &end);
  if (l.empty() || end != l.c_str() + l.size())
    throw InputError(where_, "partial state: '" + l + "' is not a number (damaged file?)");
  return v;
}

ExactSum StateReader::sum() {
  const std::size_t n = count();
  // A sum of doubles needs at most ~40 parts (2098 bits of exponent range
  // over 53-bit parts); more is a damaged file, not a reason to allocate.
  if (n > 64) throw InputError(where_, "partial state: a sum of " + std::to_string(n) + " parts (damaged file?)");
  std::vector<double> parts(n);
  for (double& p : parts) p = num();
  const double non_finite = num();
  return ExactSum::from_parts(parts, non_finite);
}

std::string StateReader::text() { return line(); }

void StateReader::add_common(StudyCommon& c) {
  c.images += count();
  c.skipped += count();
  c.clean_correct += count();
  c.timings.total += num();
  c.timings.clean += num();
  if (count() != c.timings.methods.size()) throw InputError(where_, "partial state: the methods differ");
  for (auto& m : c.timings.methods) m.second += num();
}

void StateReader::done() {
  if (pos_ != text_.size()) throw InputError(where_, "partial state has more lines than expected (damaged file?)");
}

}  // namespace lmask::study
