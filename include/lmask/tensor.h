// tensor.h — the one data type of lmask: a 4-D NCHW float32 tensor.
//
// Storage is 64-byte aligned and shared between a tensor and its views, so a
// view (one image of a batch, a channel range) costs nothing and copying a
// Tensor object never copies data; `clone()` is the only deep copy.
// Vectors such as logits are stored as [N, C, 1, 1].
// Masks ([N,1,H,W], 1 = visible) are Tensors too; mask.h gives them their own
// type and operations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace lmask {

// Dimension letters used in shape comments everywhere:
//   N batch, C channels, H height, W width, K kernel size, O output channels.
struct Shape {
  int n = 0, c = 0, h = 0, w = 0;

  std::size_t numel() const {
    return static_cast<std::size_t>(n) * c * h * w;
  }
  std::size_t image_size() const { return static_cast<std::size_t>(c) * h * w; }
  std::size_t plane_size() const { return static_cast<std::size_t>(h) * w; }
  bool operator==(const Shape& o) const {
    return n == o.n && c == o.c && h == o.h && w == o.w;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[n,c,h,w]"
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape);  // zero-initialised, 64-byte aligned
  static Tensor zeros(Shape shape) { return Tensor(shape); }
  static Tensor filled(Shape shape, float value);
  // Storage left as it comes from the allocator: for an op's output that
  // the op writes in full (a conv), where zeroing first is a wasted pass.
  static Tensor uninitialized(Shape shape);
  // A view of memory lmask does not own (a caller's numpy array): nothing
  // is copied or freed, so the caller keeps `data` alive, and unchanged, as
  // long as the tensor and its views live. Not necessarily 64-byte aligned:
  // no op relies on the alignment for correctness, only for speed.
  static Tensor borrowed(float* data, Shape shape);

  const Shape& shape() const { return shape_; }
  int n() const { return shape_.n; }
  int c() const { return shape_.c; }
  int h() const { return shape_.h; }
  int w() const { return shape_.w; }
  std::size_t numel() const { return shape_.numel(); }
  bool empty() const { return data_ == nullptr; }

  float* data() { return data_; }
  const float* data() const { return data_; }
  // Start of image `i` of the batch: [C, H, W] contiguous.
  float* image(int i) { return data_ + i * shape_.image_size(); }
  const float* image(int i) const { return data_ + i * shape_.image_size(); }
  float& at(int n, int c, int h, int w) {
    return data_[((static_cast<std::size_t>(n) * shape_.c + c) * shape_.h + h) * shape_.w + w];
  }
  float at(int n, int c, int h, int w) const {
    return data_[((static_cast<std::size_t>(n) * shape_.c + c) * shape_.h + h) * shape_.w + w];
  }

  // Views share storage with this tensor.
  Tensor batch(int first, int count) const;   // images [first, first+count)
  Tensor reshaped(Shape shape) const;         // same element count required

  Tensor clone() const;                        // the only deep copy
  void fill(float value);
  void copy_from(const Tensor& src);           // shapes must match

 private:
  Tensor(Shape shape, bool zero);
  Tensor(std::shared_ptr<float> storage, float* data, Shape shape)
      : storage_(std::move(storage)), data_(data), shape_(shape) {}

  std::shared_ptr<float> storage_;
  float* data_ = nullptr;
  Shape shape_;
};

// one [1,C,H,W] -> [n,C,H,W]: n copies of it, e.g. one image under n masks.
Tensor repeat_image(const Tensor& one, int n);

// Throws std::invalid_argument naming `what` unless `a` has shape `expected`.
void check_shape(const Tensor& a, Shape expected, const char* what);

float max_abs_diff(const Tensor& a, const Tensor& b);
float max_abs(const Tensor& a);

}  // namespace lmask
