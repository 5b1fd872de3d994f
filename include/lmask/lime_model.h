// lime_model.h — LIME applied to a model's prediction, as the lime study (S3)
// and `lmask explain` run it: the segmentation kinds they offer, the settings
// of shared/spec/EXPERIMENTS.md (S3), and the target LIME regresses on — the
// softmax probability of one class after a masking method has removed the
// segments a perturbation drops.
// Not here: the LIME algebra (lime.h), the segmenters (segmentation.h), the
// masking methods (masking.h), the study's bookkeeping (study.h).
#pragma once

#include <string>
#include <vector>

#include "lmask/lime.h"
#include "lmask/masking.h"
#include "lmask/model.h"
#include "lmask/segmentation.h"

namespace lmask {

// S3's settings: each segment kept with probability 0.5, kernel width 0.25
// on cosine distance, ridge alpha 1, 512 perturbations per image.
constexpr double kLimeKeepProb = 0.5, kLimeKernelWidth = 0.25, kLimeAlpha = 1.0;
constexpr int kLimeDefaultSamples = 512;
constexpr double kSlicCompactness = 10.0;  // Achanta et al.'s m

enum class SegmentationKind { grid, slic };
// "grid" or "slic"; anything else is an InputError naming `option`.
SegmentationKind parse_segmentation_kind(const std::string& name, const std::string& option = "--segmentation");
std::string segmentation_kind_name(SegmentationKind kind);

// img01 [1,3,H,W] -> its segments. grid: patch x patch squares (grid_segments);
// slic: SLIC superpixels asking for as many segments as that grid has, so
// both kinds cut the image about as finely.
Segmentation make_segmentation(SegmentationKind kind, const Tensor& img01, int patch);

// The target of one explanation: masks [1,1,H,W] -> softmax(method's logits)[cls]
// of img01 [1,3,H,W] under each mask, one batched forward per call (the image
// repeated, a different mask per copy). `model`, `method` and `img01` must
// outlive the returned function.
MaskTarget class_probability_target(const Model& model, const MaskingMethod& method, const Tensor& img01, int cls);

// softmax(logits [N,C,1,1]) of image i, in double.
std::vector<double> softmax(const Tensor& logits, int i);

}  // namespace lmask
