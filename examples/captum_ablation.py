#!/usr/bin/python3
"""Captum-style feature ablation written in Python around lmask.

Captum's FeatureAblation attributes to each feature group (here: a segment
of the image) the drop of the target output when that group alone is
replaced by a baseline. With lmask the segment is not replaced by a
baseline colour but removed by a masking method (layer masking by
default: the network never sees it). The loop builds one mask per
segment, runs them all through Model.logits in one call (batched in C++,
GIL released) and subtracts from the reference, the target's logit with
nothing removed. lmask.ablate computes the same numbers entirely in C++.

    PYTHONPATH=build/python /usr/bin/python3 examples/captum_ablation.py [--image data/fmnist-test-0.png]
"""

import numpy as np

from explained_image import explained, parser, print_ranking


def main():
    args = parser("Captum FeatureAblation-style segment attributions with lmask").parse_args()
    e = explained(args)
    visible = np.ones((1, *e.segments.shape), dtype=bool)

    # The reference: the method with nothing removed (for layer-renorm this
    # differs from the clean forward at the image border; for the others it is it).
    reference = e.model.logits(e.image, visible, method=args.method)[0, e.target]
    ablated = np.stack([e.segments != s for s in range(e.count)])  # [K, S, S]: segment s removed from copy s
    drops = reference - e.model.logits(e.image, ablated, method=args.method)[:, e.target]

    print(f"{args.image}: class {e.target} ({e.name}), logit {reference:.4f}; ablation with {args.method} masking, "
          f"{e.count} segments")
    print_ranking(drops, "logit drop", args.top)


if __name__ == "__main__":
    main()
