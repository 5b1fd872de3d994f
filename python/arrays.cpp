// arrays.cpp — see arrays.h.
#include "arrays.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "lmask/error.h"

namespace lmask::python {

namespace {

// Sides past this are refused before any arithmetic on them can overflow an int.
constexpr py::ssize_t kMaxSide = 1 << 30;

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

std::string dtype_text(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// obj as a numpy array (a list becomes one, as numpy.asarray does).
py::array as_array(const py::handle& obj, const std::string& what, const std::string& expected) {
  if (obj.is_none()) throw InputError(what, "expected " + expected + ", got None");
  py::array a = py::array::ensure(obj);
  if (!a) {
    PyErr_Clear();
    throw InputError(what, "expected " + expected + ", got " + std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  }
  for (py::ssize_t i = 0; i < a.ndim(); ++i)
    if (a.shape(i) > kMaxSide) throw InputError(what, "shape " + shape_text(a) + " is too large");
  return a;
}

// Whether a holds T in this machine's byte order (numpy's equivalent types).
template <class T>
bool is_native(const py::array& a) {
  return py::isinstance<py::array_t<T>>(a);
}

bool aligned(const py::array& a) { return a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_; }

}  // namespace

ImageArray image_array(const py::handle& obj, const std::string& what, bool one) {
  const std::string expected = one ? "one float32 image [1,3,H,W] or [3,H,W] of pixels in [0,1]"
                                   : "a float32 array [N,3,H,W] of pixels in [0,1]";
  py::array a = as_array(obj, what, expected);
  if (a.dtype().kind() != 'f')
    throw InputError(what, "dtype " + dtype_text(a) + "; expected " + expected +
                               " (bytes: divide by 255, or use Model.preprocess)");
  const bool single = a.ndim() == 3 || (a.ndim() == 4 && a.shape(0) == 1);
  if (!(one ? single : a.ndim() == 4))
    throw InputError(what, "shape " + shape_text(a) + "; expected " + expected);
  const py::ssize_t off = a.ndim() - 3;
  if (a.shape(off) != 3) throw InputError(what, "shape " + shape_text(a) + ": 3 colour channels expected, " + expected);
  if (a.shape(off + 1) < 1 || a.shape(off + 2) < 1) throw InputError(what, "shape " + shape_text(a) + " holds no pixels");
  // The one conversion, when the array is not already what the engine reads:
  // native-order float32 (not '>f4'), C-contiguous and aligned.
  if (!is_native<float>(a) || !(a.flags() & py::array::c_style) || !aligned(a))
    a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
  ImageArray out;
  out.keep_ = a;
  // Only read: every masking method and forward takes its input as const Tensor&.
  out.data_ = const_cast<float*>(static_cast<const float*>(a.data()));
  out.shape_ = {a.ndim() == 4 ? int(a.shape(0)) : 1, 3, int(a.shape(off + 1)), int(a.shape(off + 2))};
  out.what_ = what;
  return out;
}

Tensor ImageArray::images(int first, int count) const {
  if (shape_.n == 1 && (first > 0 || count != 1))
    return repeat_image(Tensor::borrowed(data_, {1, 3, shape_.h, shape_.w}), count);
  return Tensor::borrowed(data_ + std::size_t(first) * shape_.image_size(), {count, 3, shape_.h, shape_.w});
}

void check_pixels(const Tensor& x, const std::string& what, int first_index) {
  const float* v = x.data();
  for (std::size_t i = 0; i < x.numel(); ++i) {
    if (v[i] >= 0.f && v[i] <= 1.f) continue;  // false for NaN too
    const Shape s = x.shape();
    const std::size_t pixel = i % s.plane_size();
    char value[32];
    std::snprintf(value, sizeof value, "%g", double(v[i]));
    throw InputError(what, "value " + std::string(value) + " of image " + std::to_string(first_index + int(i / s.image_size())) +
                               ", channel " + std::to_string(int(i / s.plane_size() % s.c)) + ", row " +
                               std::to_string(int(pixel / s.w)) + ", column " + std::to_string(int(pixel % s.w)) +
                               " is not in [0, 1]: pass pixels in [0, 1] (the model normalises with its own mean and std)");
  }
}

MaskArray mask_array(const py::handle& obj, const std::string& what) {
  const std::string expected = "masks [N,1,H,W] or [N,H,W] of bool, integers or floats (non-zero = visible)";
  py::array a = as_array(obj, what, expected);
  const bool four = a.ndim() == 4 && a.shape(1) == 1;
  if (!(a.ndim() == 3 || four)) throw InputError(what, "shape " + shape_text(a) + "; expected " + expected);
  const char kind = a.dtype().kind();
  MaskArray out;
  if (kind == 'b' || ((kind == 'u' || kind == 'i') && a.itemsize() == 1)) {
    out.type_ = 'b';
  } else if (is_native<float>(a) && aligned(a)) {
    out.type_ = 'f';
  } else if (is_native<double>(a) && aligned(a)) {
    out.type_ = 'd';
  } else if (kind == 'u' || kind == 'i' || kind == 'f') {
    // Wider integers, float16, the other byte order, unaligned: converted once; zero stays zero.
    a = py::array_t<float, py::array::forcecast>::ensure(a);
    out.type_ = 'f';
  } else {
    throw InputError(what, "dtype " + dtype_text(a) + "; expected " + expected);
  }
  const int y = four ? 2 : 1;
  out.keep_ = a;
  out.data_ = static_cast<const char*>(a.data());
  out.n_ = int(a.shape(0)), out.h_ = int(a.shape(y)), out.w_ = int(a.shape(y + 1));
  out.stride_n_ = a.strides(0), out.stride_y_ = a.strides(y), out.stride_x_ = a.strides(y + 1);
  out.what_ = what;
  if (out.h_ < 1 || out.w_ < 1) throw InputError(what, "shape " + shape_text(a) + " holds no pixels");
  return out;
}

template <class T>
void MaskArray::read(int index, float* out) const {
  const char* base = data_ + index * stride_n_;
  for (int y = 0; y < h_; ++y)
    for (int x = 0; x < w_; ++x) {
      const T v = *reinterpret_cast<const T*>(base + y * stride_y_ + x * stride_x_);
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(v))
          throw InputError(what_, "NaN in mask " + std::to_string(index) + " at row " + std::to_string(y) +
                                      ", column " + std::to_string(x) + "; expected 0 (removed) or non-zero (visible)");
      }
      out[std::size_t(y) * w_ + x] = v != 0 ? 1.f : 0.f;
    }
}

Mask MaskArray::masks(int first, int count) const {
  Tensor t = Tensor::uninitialized({count, 1, h_, w_});
  for (int i = 0; i < count; ++i) {
    const int index = n_ == 1 ? 0 : first + i;
    if (type_ == 'b') read<std::uint8_t>(index, t.image(i));
    else if (type_ == 'f') read<float>(index, t.image(i));
    else read<double>(index, t.image(i));
  }
  return Mask(t);
}

int paired_rows(const ImageArray& images, const MaskArray& masks) {
  if (images.h() != masks.h() || images.w() != masks.w())
    throw InputError("masks", "masks of " + std::to_string(masks.h()) + "x" + std::to_string(masks.w()) +
                                  " pixels for images of " + std::to_string(images.h()) + "x" + std::to_string(images.w()) +
                                  ": they must be the images' size");
  if (images.n() == masks.n() || masks.n() == 1) return images.n();
  if (images.n() == 1) return masks.n();
  throw InputError("masks", std::to_string(masks.n()) + " masks for " + std::to_string(images.n()) +
                                " images: give one mask per image, or one image (or one mask) for all");
}

Segmentation segmentation_from(const py::handle& obj, int h, int w, const std::string& what) {
  const std::string expected = "segment ids [" + std::to_string(h) + "," + std::to_string(w) +
                               "] (the image's size), integers 0..K-1";
  py::array a = as_array(obj, what, expected);
  if (a.dtype().kind() != 'i' && a.dtype().kind() != 'u')
    throw InputError(what, "dtype " + dtype_text(a) + "; expected " + expected);
  if (a.ndim() != 2 || a.shape(0) != h || a.shape(1) != w)
    throw InputError(what, "shape " + shape_text(a) + "; expected " + expected);
  const auto ids = py::array_t<long long, py::array::c_style | py::array::forcecast>::ensure(a);
  const long long* v = ids.data();
  Segmentation seg;
  seg.h = h, seg.w = w;
  seg.labels.resize(std::size_t(h) * w);
  long long top = -1;
  for (std::size_t i = 0; i < seg.labels.size(); ++i) {
    if (v[i] < 0 || v[i] >= (long long)seg.labels.size())
      throw InputError(what, "id " + std::to_string(v[i]) + " at row " + std::to_string(i / w) + ", column " +
                                 std::to_string(i % w) + "; expected " + expected);
    seg.labels[i] = int(v[i]);
    top = std::max(top, v[i]);
  }
  seg.count = int(top + 1);
  std::vector<char> used(seg.count, 0);
  for (int id : seg.labels) used[id] = 1;
  const auto unused = std::find(used.begin(), used.end(), 0);
  if (unused != used.end())
    throw InputError(what, "id " + std::to_string(unused - used.begin()) + " is unused (ids run 0.." +
                               std::to_string(seg.count - 1) + "): number the segments 0..K-1, each used "
                               "(skimage's slic starts at 1: subtract 1)");
  return seg;
}

py::array_t<std::int32_t> labels_to_numpy(const Segmentation& seg) {
  py::array_t<std::int32_t> out({py::ssize_t(seg.h), py::ssize_t(seg.w)});
  std::copy(seg.labels.begin(), seg.labels.end(), out.mutable_data());
  return out;
}

ImageU8 picture_from(const py::handle& obj, const std::string& what) {
  const std::string expected = "a path, or uint8 RGB bytes [H,W,3] (or grey [H,W])";
  py::array a = as_array(obj, what, expected);
  if (a.dtype().kind() != 'u' || a.itemsize() != 1) throw InputError(what, "dtype " + dtype_text(a) + "; expected " + expected);
  const bool grey = a.ndim() == 2;
  if (!(grey || (a.ndim() == 3 && a.shape(2) == 3))) throw InputError(what, "shape " + shape_text(a) + "; expected " + expected);
  const long long h = a.shape(0), w = a.shape(1);
  if (h < 1 || w < 1) throw InputError(what, "shape " + shape_text(a) + " holds no pixels");
  if (h * w > kMaxImagePixels)
    throw InputError(what, "pictures of " + std::to_string(w) + "x" + std::to_string(h) + " pixels exceed the limit of " +
                               std::to_string(kMaxImagePixels));
  const auto bytes = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>::ensure(a);
  ImageU8 picture(static_cast<int>(w), static_cast<int>(h));
  const std::uint8_t* v = bytes.data();
  if (grey)
    for (std::size_t i = 0; i < std::size_t(h * w); ++i) picture.rgb[3 * i] = picture.rgb[3 * i + 1] = picture.rgb[3 * i + 2] = v[i];
  else
    std::copy(v, v + picture.rgb.size(), picture.rgb.begin());
  return picture;
}

py::array_t<bool> mask_to_numpy(const Mask& m) {
  py::array_t<bool> out({py::ssize_t(m.h()), py::ssize_t(m.w())});
  bool* dst = out.mutable_data();
  const float* src = m.image(0);
  for (std::size_t i = 0; i < std::size_t(m.h()) * m.w(); ++i) dst[i] = src[i] != 0.f;
  return out;
}

py::array_t<float> tensor_to_numpy(const Tensor& t, const std::vector<py::ssize_t>& shape) {
  py::array_t<float> out(shape);
  if (std::size_t(out.size()) != t.numel()) throw std::logic_error("tensor_to_numpy: shape does not hold the tensor");
  std::copy(t.data(), t.data() + t.numel(), out.mutable_data());
  return out;
}

void check_picture_size(long long h, long long w) {
  at_least(h, 1, "h"), at_least(w, 1, "w");
  if (h * w > kMaxImagePixels)
    throw InputError("h, w", std::to_string(h) + "x" + std::to_string(w) + " exceeds the limit of " +
                                 std::to_string(kMaxImagePixels) + " pixels");
}

int at_least(long long value, long long least, const std::string& what) {
  if (value < least) throw InputError(what, "must be at least " + std::to_string(least) + ", got " + std::to_string(value));
  if (value > std::numeric_limits<int>::max()) throw InputError(what, std::to_string(value) + " is too large");
  return int(value);
}

}  // namespace lmask::python
