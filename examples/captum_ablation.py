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

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import lmask
except ImportError:  # run from a checkout without PYTHONPATH: the build's module
    sys.path.insert(0, os.path.join(ROOT, "build", "python"))
    import lmask


def main():
    parser = argparse.ArgumentParser(description="Captum FeatureAblation-style segment attributions with lmask")
    parser.add_argument("--weights", default=os.path.join(ROOT, "weights", "resnet50_fmnist.h5"))
    parser.add_argument("--image", default=os.path.join(ROOT, "data", "fmnist-test-0.png"))
    parser.add_argument("--method", default="layer", help="masking method that removes a segment")
    parser.add_argument("--top", type=int, default=5, help="top segments to print")
    args = parser.parse_args()

    model = lmask.Model(args.weights)
    image = model.preprocess(args.image)  # float32 [1,3,S,S] in [0,1]
    size = model.input_size
    segments = lmask.segment_grid(size, size, lmask.default_patch_size(size))
    count = int(segments.max()) + 1
    target = int(model.logits(image)[0].argmax())

    # The reference: the method with nothing removed (for layer-renorm this
    # differs from the clean forward at the image border; for the others it is it).
    reference = model.logits(image, np.ones((1, size, size), dtype=bool), method=args.method)[0, target]
    ablated = np.stack([segments != s for s in range(count)])  # [K, S, S]: segment s removed from copy s
    drops = reference - model.logits(image, ablated, method=args.method)[:, target]

    name = model.class_names[target] if target < len(model.class_names) else f"class {target}"
    print(f"{args.image}: class {target} ({name}), logit {reference:.4f}; ablation with {args.method} masking, "
          f"{count} segments")
    print("rank  segment  logit drop")
    for rank, segment in enumerate(np.argsort(-drops, kind="stable")[:args.top], 1):
        print(f"{rank:>4}  {segment:>7}  {drops[segment]:>+11.6f}")


if __name__ == "__main__":
    main()
