// mask_builders.h — ways to say what to remove, each giving a [1,1,H,W] Mask
// (1 = visible). Random choices take an explicit seed and use lmask's own
// generator, so a seed means the same mask on every platform.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lmask/image.h"
#include "lmask/mask.h"

namespace lmask {

// A grid of patch x patch squares over an h x w image (the last row/column
// may be cut short); ids run row-major from 0.
int patch_count(int h, int w, int patch);
Mask patch_mask(int h, int w, int patch, const std::vector<int>& removed_ids);

// A random order of `count` ids (Fisher-Yates on a seeded mt19937_64).
std::vector<int> random_order(int count, std::uint64_t seed);
// The first round(fraction * #patches) patches of random_order(seed) removed.
Mask random_patch_mask(int h, int w, int patch, double fraction, std::uint64_t seed);

// segments [h*w] holds a segment id per pixel; pixels of removed ids are
// removed. Ids outside [0, h*w) (no segmentation makes them) are never removed.
Mask segment_mask(const std::vector<int>& segments, int h, int w, const std::vector<int>& removed_ids);

// The rectangle [x0,x1) x [y0,y1) removed.
Mask rectangle_mask(int h, int w, int x0, int y0, int x1, int y1);
// The disk of radius r around pixel centre (cx, cy) removed.
Mask disk_mask(int h, int w, double cx, double cy, double r);

// A mask drawn on a photo: a PNG of the photo's own size (non-zero = visible,
// or removed with invert), taken through the same Resize(resize_short) +
// CenterCrop(crop) as the photo, with nearest-neighbour resampling.
// Any non-zero value in any channel counts (a grey, RGB, palette or 16-bit
// PNG alike), so there are no "non-binary" values to refuse; alpha is
// ignored, as for photos. Refused with InputError(path, ...): a mask of
// another size than the photo (expected_w/h), and a JPEG (its compression
// noise turns black into small non-zero values). An all-zero mask is not
// refused here: as an object mask it means "no object"; the CLI refuses it
// where it would make the answer meaningless (classify --mask).
Mask mask_from_png(const std::string& path, int expected_w, int expected_h, int resize_short,
                   int crop, bool invert);
// The same from a decoded picture (no size check): non-zero pixels are
// visible. `source` is what an InputError from resized_size names.
Mask mask_from_image(const ImageU8& picture, int resize_short, int crop, bool invert,
                     const std::string& source = "mask");

// Masks of equal size stacked into one batch [N,1,H,W].
Mask stack_masks(const std::vector<Mask>& masks);

}  // namespace lmask
