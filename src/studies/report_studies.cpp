// report_studies.cpp — the report's words about each study. Kept apart from
// the page assembly so that the text can be read and edited as text.
#include "report_studies.h"

namespace lmask::report {

const std::vector<StudyText>& study_texts() {
  static const std::vector<StudyText> texts = {
      {"removal", "S1 \u2014 segment removal",
       "Each image is cut into a grid of square patches and given one random order of its patches, drawn from the "
       "run's seed and shared by every masking method. For each fraction f from 0 to 1 the first round(f \u00b7 "
       "patches) patches of that order are removed with each method and the model is run again. The table gives, "
       "per method and fraction, the top-1 accuracy, how often the prediction is still the one made on the intact "
       "image, and the mean KL divergence of the softmax from the intact image's softmax. A method that removes "
       "information without adding artefacts of its own should stay close to the clean model as f grows; the paper "
       "(ResNet-50 on ImageNet) found layer masking closest to clean, with greyout and blackout falling off "
       "fastest."},
      {"leakage", "S2 \u2014 mask-shape leakage",
       "The object itself (the image's object mask) is removed with each method, and the accuracy that remains is "
       "reported: anything above chance (the dashed line) means the outline of the hole still tells the model the "
       "class. Two controls: the same mask shifted cyclically by half the image in both directions, so that its "
       "shape no longer covers the object, and \u201cmask alone\u201d, an empty background image from which the "
       "object's mask is removed, leaving the hole's shape as the only thing to read. The paper found greyout and "
       "blackout leaking far above chance and layer masking much less."},
      {"lime", "S3 \u2014 LIME with each masking method",
       "LIME explains the model's probability for its own top-1 class on each image: the image is cut into segments "
       "(square patches or SLIC superpixels), a few hundred random perturbations each keep every segment with "
       "probability one half, a weighted ridge regression of the probability on the kept segments ranks them. The "
       "perturbations are carried out with each masking method, and every method sees the same segments and the "
       "same perturbations. Each ranking is then judged with one yardstick, layer masking: the k highest-ranked "
       "segments are removed and the accuracy (and the mean probability of the class) that remains is reported; "
       "lower means the explanation found what the model relies on, and k = 0 is the clean model. Where object "
       "masks exist, the overlap column gives the Jaccard similarity between the top-k segments and the object. "
       "The picture shows each method's heat map for the first images (red raises the probability, blue lowers "
       "it); the JSON gives LIME's throughput per method in perturbations per second."},
      {"linearity", "S4 \u2014 linearity of removal",
       "Four random disjoint patches are chosen per image. With each method the model's features (the pooled "
       "vector its classifier reads; for SqueezeNet, whose classifier ends with the pool, that pool's output) "
       "are computed with only patch i visible, for each of the four, and with "
       "all four visible together. If a method removed the rest of the image as if it were absent, the features of "
       "the single patches would add up to something close to the features of all four; the table reports the "
       "mean cosine similarity and the mean relative L2 distance between the sum and the joint features. The paper "
       "found layer masking the most linear."},
  };
  return texts;
}

}  // namespace lmask::report
