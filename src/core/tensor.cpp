// tensor.cpp — aligned storage, views and the few whole-tensor helpers.
#include "lmask/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace lmask {

namespace {
constexpr std::size_t kAlignment = 64;  // one cache line; AVX-512 friendly

std::shared_ptr<float> allocate(std::size_t count, bool zero) {
  std::size_t bytes = std::max<std::size_t>(count * sizeof(float), kAlignment);
  bytes = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, bytes);
  if (!p) throw std::bad_alloc();
  if (zero) std::memset(p, 0, bytes);
  return std::shared_ptr<float>(static_cast<float*>(p), [](float* q) { std::free(q); });
}
}  // namespace

std::string Shape::str() const {
  return "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," +
         std::to_string(w) + "]";
}

Tensor::Tensor(Shape shape) : Tensor(shape, true) {}

Tensor::Tensor(Shape shape, bool zero) : shape_(shape) {
  if (shape.n < 0 || shape.c < 0 || shape.h < 0 || shape.w < 0)
    throw std::invalid_argument("negative tensor dimension " + shape.str());
  storage_ = allocate(shape.numel(), zero);
  data_ = storage_.get();
}

Tensor Tensor::uninitialized(Shape shape) { return Tensor(shape, false); }

Tensor Tensor::borrowed(float* data, Shape shape) {
  if (shape.n < 0 || shape.c < 0 || shape.h < 0 || shape.w < 0)
    throw std::invalid_argument("negative tensor dimension " + shape.str());
  if (!data && shape.numel() > 0) throw std::invalid_argument("borrowed tensor " + shape.str() + " without data");
  return Tensor(std::shared_ptr<float>(data, [](float*) {}), data, shape);
}

Tensor Tensor::filled(Shape shape, float value) {
  Tensor t(shape);
  t.fill(value);
  return t;
}

Tensor Tensor::batch(int first, int count) const {
  if (first < 0 || count < 0 || first + count > shape_.n)
    throw std::out_of_range("batch view [" + std::to_string(first) + "," +
                            std::to_string(first + count) + ") of " + shape_.str());
  Shape s = shape_;
  s.n = count;
  return Tensor(storage_, data_ + first * shape_.image_size(), s);
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape.numel() != numel())
    throw std::invalid_argument("cannot reshape " + shape_.str() + " to " + shape.str());
  return Tensor(storage_, data_, shape);
}

Tensor Tensor::clone() const {
  Tensor t(shape_);
  std::copy(data_, data_ + numel(), t.data_);
  return t;
}

void Tensor::fill(float value) { std::fill(data_, data_ + numel(), value); }

void Tensor::copy_from(const Tensor& src) {
  check_shape(src, shape_, "copy source");
  std::copy(src.data_, src.data_ + numel(), data_);
}

Tensor repeat_image(const Tensor& one, int n) {
  if (one.n() != 1 || n < 0)
    throw std::invalid_argument("repeat_image: expected one image and n >= 0, got " + one.shape().str() + " x " +
                                std::to_string(n));
  Tensor t = Tensor::uninitialized({n, one.c(), one.h(), one.w()});
  for (int i = 0; i < n; ++i) std::copy(one.data(), one.data() + one.numel(), t.image(i));
  return t;
}

void check_shape(const Tensor& a, Shape expected, const char* what) {
  if (a.shape() != expected)
    throw std::invalid_argument(std::string(what) + ": expected shape " + expected.str() +
                                ", found " + a.shape().str());
}

float max_abs_diff(const Tensor& a, const Tensor& b) {
  check_shape(b, a.shape(), "max_abs_diff");
  // NaN anywhere makes the difference infinite: a comparison must never pass on NaN.
  float m = 0.f;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    const float d = std::fabs(a.data()[i] - b.data()[i]);
    if (std::isnan(d)) return std::numeric_limits<float>::infinity();
    m = std::max(m, d);
  }
  return m;
}

float max_abs(const Tensor& a) {
  float m = 0.f;
  for (std::size_t i = 0; i < a.numel(); ++i) {
    const float v = std::fabs(a.data()[i]);
    if (std::isnan(v)) return std::numeric_limits<float>::infinity();
    m = std::max(m, v);
  }
  return m;
}

}  // namespace lmask
