// arrays.h — numpy arrays in and out of lmask's types, checked.
//
// Images are read where they lie when they are C-contiguous float32 (a
// borrowed Tensor over the caller's buffer), else converted once to that.
// Masks are read in place whatever their layout and dtype, one batch at a
// time, into the 0/1 Mask the engine takes (non-zero = visible), so a
// [512,H,W] bool or uint8 array costs no whole-array copy either.
// Every problem is an InputError naming the argument: one line.
//
// The converting functions take Python objects and need the GIL; the
// accessors of ImageArray and MaskArray (images, masks) and check_pixels
// touch only memory and run with the GIL released.
#pragma once

#include <cstdint>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "lmask/image.h"
#include "lmask/mask.h"
#include "lmask/segmentation.h"
#include "lmask/tensor.h"

namespace lmask::python {

namespace py = pybind11;

// images [N,3,H,W] (or one image [3,H,W] where a call takes one), float32.
class ImageArray {
 public:
  int n() const { return shape_.n; }
  int h() const { return shape_.h; }
  int w() const { return shape_.w; }
  // Images [first, first+count) of a batch of `total`: a view of the array,
  // or, when it holds one image for all, `count` copies of it. Checked by
  // check_pixels.
  Tensor images(int first, int count) const;

 private:
  friend ImageArray image_array(const py::handle& obj, const std::string& what, bool one);
  py::array keep_;  // the caller's array or its converted copy: alive as long as this
  float* data_ = nullptr;
  Shape shape_;
  std::string what_;
};
// one: the call takes a single image, [1,3,H,W] or [3,H,W].
ImageArray image_array(const py::handle& obj, const std::string& what, bool one = false);

// masks [N,1,H,W] or [N,H,W]: bool, any integer or float dtype, any strides.
class MaskArray {
 public:
  int n() const { return n_; }
  int h() const { return h_; }
  int w() const { return w_; }
  // Masks [first, first+count); a single mask is every row's.
  Mask masks(int first, int count) const;

 private:
  friend MaskArray mask_array(const py::handle& obj, const std::string& what);
  template <class T>
  void read(int index, float* out) const;
  py::array keep_;
  const char* data_ = nullptr;
  char type_ = 0;  // 'b': one byte per value, 'f': float32, 'd': float64
  int n_ = 0, h_ = 0, w_ = 0;
  py::ssize_t stride_n_ = 0, stride_y_ = 0, stride_x_ = 0;
  std::string what_;
};
MaskArray mask_array(const py::handle& obj, const std::string& what);

// The rows images and masks make together: equal counts, or one of them 1
// (used for every row); equal H and W. InputError otherwise.
int paired_rows(const ImageArray& images, const MaskArray& masks);

// InputError(what, ...) naming the first value of x [N,3,H,W] that is not a
// pixel in [0,1] (image `first_index + n`): a normalised image passed by
// mistake, or a NaN, would otherwise give numbers that look fine.
void check_pixels(const Tensor& x, const std::string& what, int first_index);

// segments [H,W] of integer ids 0..K-1, each used -> a Segmentation.
Segmentation segmentation_from(const py::handle& obj, int h, int w, const std::string& what);
py::array_t<std::int32_t> labels_to_numpy(const Segmentation& seg);  // [H,W]

// A uint8 picture [H,W,3] (RGB) or [H,W] (grey, replicated as Pillow's convert("RGB") does).
ImageU8 picture_from(const py::handle& obj, const std::string& what);

// Outputs, copied into fresh numpy arrays: the mask [1,1,H,W] as bool [H,W],
// a tensor as float32 of the given shape.
py::array_t<bool> mask_to_numpy(const Mask& m);
py::array_t<float> tensor_to_numpy(const Tensor& t, const std::vector<py::ssize_t>& shape);

// h x w for a mask or segmentation built here: each side at least 1, at
// most kMaxImagePixels in all (as for decoded pictures); InputError naming h or w.
void check_picture_size(long long h, long long w);

// An int argument that must be at least `least`: InputError(what, ...) otherwise.
int at_least(long long value, long long least, const std::string& what);

}  // namespace lmask::python
