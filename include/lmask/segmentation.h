// segmentation.h — an image cut into segments: the interpretable features LIME
// explains with. Two kinds: square patches (the same ids as patch_mask) and
// SLIC superpixels.
// Not here: turning segments into masks (segment_mask in mask_builders.h) or
// anything about explanations (lime.h).
#pragma once

#include <vector>

#include "lmask/tensor.h"

namespace lmask {

// labels [h*w] row-major: the segment id of each pixel, 0..count-1, every id used.
struct Segmentation {
  int h = 0, w = 0, count = 0;
  std::vector<int> labels;
};

// patch x patch squares, ids row-major, the last row/column cut short: segment
// i is exactly the region patch_mask(h, w, patch, {i}) removes.
Segmentation grid_segments(int h, int w, int patch);

// SLIC superpixels of img01 [1,3,H,W] (sRGB in [0,1]), after Achanta et al.,
// "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods", IEEE
// TPAMI 34(11), 2012: k-means in [L a b x y] with D = sqrt(dc² + (ds/S)² m²),
// each centre searching a 2S x 2S window.
//   n_segments: the wanted number K; a grid of about K centres is seeded, and
//               the final count differs (connectivity splits and merges).
//   compactness: m, in CIELAB units (the paper uses 10); larger = squarer.
// Every segment is 4-connected; ids are consecutive in raster order of first
// appearance. Deterministic.
Segmentation slic_segments(const Tensor& img01, int n_segments, double compactness, int max_iter = 10);

}  // namespace lmask
