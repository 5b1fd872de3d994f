"""lmask from Python: the C++ engine's models, masking methods and explainers on numpy arrays.

    import lmask
    m = lmask.Model("weights/resnet50_fmnist.h5")
    x = m.preprocess("data/fmnist-test-0.png")             # float32 [1,3,64,64] in [0,1]
    keep = lmask.masks.patches(64, 64, 8, remove=0.5, seed=1)
    p = m.probs(x, keep[None], method="layer")             # float32 [1,10]

Batches run in C++ with the GIL released; errors are ValueError (an argument),
OSError (a file) or RuntimeError, each carrying the CLI's one-line message.
The API, with an example per call: python/README.md.
"""

from ._lmask import (  # noqa: F401  (re-exported)
    Model,
    ablate,
    available_backends,
    default_patch_size,
    lime,
    load_mask,
    perturbations,
    segment_grid,
    slic,
)
from . import masks  # noqa: F401

__all__ = ["Model", "ablate", "available_backends", "default_patch_size", "lime", "load_mask", "masks",
           "perturbations", "segment_grid", "slic"]
