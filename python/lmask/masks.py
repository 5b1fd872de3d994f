"""Mask builders, the same the studies use: each returns bool [H, W], True = visible.

Stack several into a batch with numpy.stack; Model.logits takes [N,H,W] or [N,1,H,W].
"""

from ._lmask import masks as _native

patches = _native.patches      # (h, w, patch, remove, seed=0): a seeded fraction of square patches removed
segments = _native.segments    # (labels, removed): the pixels of segments `removed` removed
rectangle = _native.rectangle  # (h, w, x0, y0, x1, y1): the rectangle [x0,x1) x [y0,y1) removed
disk = _native.disk            # (h, w, cx, cy, r): a disk removed

__all__ = ["patches", "segments", "rectangle", "disk"]
