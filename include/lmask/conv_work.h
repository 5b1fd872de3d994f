// conv_work.h — how much of a graph's conv work a mask leaves: every conv's
// multiply-adds, dense and at the outputs its mask keeps, worked out from
// the mask plan (mask_plan.h) without computing a value. `lmask bench`
// prints 1/v as a masked forward's ideal speed-up.
#pragma once

#include "lmask/graph.h"
#include "lmask/mask.h"

namespace lmask {

struct ConvWork {
  double dense_macs = 0;    // every conv that runs, at every output
  double visible_macs = 0;  // at the outputs of the conv's own mask m' (before a fused residual add)
  // v: the work the active-region execution cannot skip, as a fraction.
  double visible_fraction() const { return dense_macs > 0 ? visible_macs / dense_macs : 0; }
};

// The multiply-adds of every conv2d node of `g` that the forward to node
// `until` (-1: the output) runs, for the masks m [N,1,H,W] takes through it.
ConvWork conv_work(const Graph& g, const Mask& m, int until = -1);

}  // namespace lmask
