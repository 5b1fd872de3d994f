// masks_entry.cpp — fuzzing the mask builders with the parameters their
// callers could pass, and mask_from_png with a fuzzed picture (fuzz_entries.h).
#include <cmath>
#include <stdexcept>

#include "fuzz_entries.h"
#include "lmask/error.h"
#include "lmask/mask_builders.h"

namespace lmask::fuzz {

namespace {

// A size: mostly small, sometimes zero or negative (refused as
// invalid_argument), never so large that one input allocates gigabytes.
int side(Bytes& in) {
  const std::uint8_t b = in.u8();
  return b < 250 ? b % 97 : -static_cast<int>(b - 249);
}

// Any int: small, huge or negative, as a careless caller might pass.
int any_int(Bytes& in) {
  const std::uint8_t kind = in.u8();
  return kind % 4 == 0 ? in.i32() : static_cast<int>(in.u8()) - 8;
}

void check_size(const Mask& m, int h, int w) {
  if (m.h() != h || m.w() != w) throw std::logic_error("masks entry: wrong mask size");
}

}  // namespace

void masks_entry(const std::uint8_t* data, std::size_t size) {
  Bytes in(data, size);
  const int h = side(in), w = side(in);
  // Each builder is tried on its own: a refusal of one must not hide the others.
  auto attempt = [](auto build) {
    try {
      build();
    } catch (const InputError&) {
    } catch (const std::invalid_argument&) {
    } catch (const std::out_of_range&) {
    }
  };
  const int patch = any_int(in);
  std::vector<int> ids(in.u8() % 8);
  for (int& id : ids) id = any_int(in);
  attempt([&] { check_size(patch_mask(h, w, patch, ids), h, w); });
  const double fraction = in.u8() < 200 ? in.u8() / 255.0 : in.f64();
  const std::uint64_t seed = in.u32();
  attempt([&] { check_size(random_patch_mask(h, w, patch, fraction, seed), h, w); });
  attempt([&] {
    if (h < 0 || w < 0) throw std::invalid_argument("negative size");
    std::vector<int> segments(std::size_t(h) * std::size_t(w));
    for (int& s : segments) s = in.u8() < 240 ? in.u8() % 16 : any_int(in);
    check_size(segment_mask(segments, h, w, ids), h, w);
  });
  const int x0 = any_int(in), y0 = any_int(in), x1 = any_int(in), y1 = any_int(in);
  attempt([&] { check_size(rectangle_mask(h, w, x0, y0, x1, y1), h, w); });
  const double cx = in.f64(), cy = in.f64(), r = in.f64();
  attempt([&] { check_size(disk_mask(h, w, cx, cy, r), h, w); });
  // The rest: a mask picture drawn for a photo of size (pw, ph).
  const int pw = 1 + in.u8(), ph = 1 + in.u8();
  const int resize = 1 + in.u8() % 200, crop = 1 + in.u8() % 200;
  const bool invert = in.u8() & 1;
  const std::string path = scratch_path("mask.png");
  write_scratch(path, in.rest(), in.left());
  attempt([&] { check_size(mask_from_png(path, pw, ph, resize, crop, invert), crop, crop); });
}

}  // namespace lmask::fuzz
