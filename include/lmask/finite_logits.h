// finite_logits.h — the check between a forward and anything printed or
// counted from it. Finite weights can still overflow float32 (a logit past
// 3.4e38 is inf; softmax of inf is nan, and nan compares false, so it would
// also count as a top-1 hit): such a result is the weights' fault, said as
// one line naming them, never a number. The CLI calls it on every forward
// whose result it prints (classify, eval, explain); a study can call it on
// its logits the same way.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "lmask/error.h"
#include "lmask/tensor.h"

namespace lmask {

// InputError naming `weights` unless every value of `logits` [N,C,1,1] is finite.
inline void require_finite_logits(const Tensor& logits, const std::string& weights) {
  const float* z = logits.data();
  const std::size_t classes = static_cast<std::size_t>(logits.c());
  for (std::size_t i = 0; i < logits.numel(); ++i)
    if (!std::isfinite(z[i]))
      throw InputError(weights, "the model's logits are not finite (" + std::string(std::isnan(z[i]) ? "nan" : "inf") +
                                    " for class " + std::to_string(i % classes) + " of image " +
                                    std::to_string(i / classes) + "): the weights overflow float32");
}

// The same for scores computed from logits (class probabilities, float or double).
template <class Real>
void require_finite_scores(const std::vector<Real>& scores, const std::string& weights) {
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (!std::isfinite(scores[i]))
      throw InputError(weights, "the model's probabilities are not finite (score " + std::to_string(i) +
                                    "): the weights overflow float32");
}

}  // namespace lmask
