"""What both examples start from, and how they end.

The lmask module (the build's, when it is not on PYTHONPATH), their common
options, the model, the image as the model sees it, the image's grid of
segments (the lime study's, default_patch_size squares) and the class to
explain (the clean top-1); at the end, a ranking of the segments printed.
"""

import argparse
import os
import sys
from dataclasses import dataclass

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import lmask
except ImportError:  # run from a checkout without PYTHONPATH: the build's module
    sys.path.insert(0, os.path.join(ROOT, "build", "python"))
    import lmask


def parser(description):
    """The options both examples take; each adds its own."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--weights", default=os.path.join(ROOT, "weights", "resnet50_fmnist.h5"))
    p.add_argument("--image", default=os.path.join(ROOT, "data", "fmnist-test-0.png"))
    p.add_argument("--method", default="layer", help="the masking method that removes segments")
    p.add_argument("--top", type=int, default=5, help="top segments to print")
    return p


@dataclass
class Explained:
    model: "lmask.Model"
    image: np.ndarray     # float32 [1,3,S,S] in [0,1]
    segments: np.ndarray  # int32 [S,S], ids 0..count-1
    count: int
    target: int           # the clean model's top-1 class
    name: str             # its name


def explained(args):
    model = lmask.Model(args.weights)
    image = model.preprocess(args.image)
    size = model.input_size
    segments = lmask.segment_grid(size, size, lmask.default_patch_size(size))
    target = int(model.logits(image)[0].argmax())
    name = model.class_names[target] if target < len(model.class_names) else f"class {target}"
    return Explained(model, image, segments, int(segments.max()) + 1, target, name)


def print_ranking(values, label, top):
    """The `top` segments by value, highest first (ties: the lower id), one line each."""
    print(f"rank  segment  {label}")
    for rank, segment in enumerate(np.argsort(-values, kind="stable")[:top], 1):
        print(f"{rank:>4}  {segment:>7}  {values[segment]:>+11.6f}")
