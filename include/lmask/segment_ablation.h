// segment_ablation.h — occlusion attributions over segments, in the manner of
// Captum's FeatureAblation: each segment's attribution is how much the
// target class's logit drops when that segment alone is removed.
// The removal is a masking method's (masking.h), so "removed" means what it
// means for that method (layer masking: never seen; grey: painted grey).
// Not here: LIME (lime.h), which fits all segments jointly from random
// subsets; ablation removes one segment at a time, so its attributions
// miss interactions and cost one forward per segment.
#pragma once

#include <vector>

#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/segmentation.h"

namespace lmask {

// img01 [1,3,H,W] in [0,1], seg of its size -> drops [seg.count]:
// reference - logit[cls] with segment s removed, where reference is logit[cls]
// under `method` with nothing removed (an all-visible mask). For every
// method but layer-renorm that is the clean forward's logit; renormalised
// layer masking changes the logits at the image border even with nothing
// removed (LAYER_MASKING.md), so its drops are measured from its own reference.
// One batched forward per batch_size segments. InputError naming the
// weights for logits that are not finite; std::invalid_argument for
// mismatched sizes or a class out of range.
std::vector<double> segment_ablation(const Model& model, const MaskingMethod& method, const Tensor& img01,
                                     const Segmentation& seg, int cls, int batch_size = 32);

}  // namespace lmask
