"""Fashion-MNIST as lmask reads it: Debian's dataset-fashion-mnist idx files.

What it is: the idx reader (gzip, header checked) shared by the trainer
(train_fashion_mnist.py), the Python LIME benchmark (bench_python_lime.py)
and the Python module's tests, so that none of them needs torch to read
the images. What it is not: the preprocessing (lmask.Model.preprocess, or
the trainer's own resize).
"""

import gzip
import os

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049


def read_idx(path, magic, rank):
    """An idx file (gzip) as a uint8 array; the header is checked, not trusted."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    header = np.frombuffer(data[:4 + 4 * rank], dtype=">u4")
    if header[0] != magic:
        raise SystemExit(f"{path}: bad idx magic {header[0]}, expected {magic}")
    shape = tuple(int(d) for d in header[1:])
    body = np.frombuffer(data[4 + 4 * rank:], dtype=np.uint8)
    if body.size != int(np.prod(shape)):
        raise SystemExit(f"{path}: {body.size} bytes of data, header says {shape}")
    return body.reshape(shape)


def split_images(split):
    """uint8 [N, 28, 28] of "train" or "test", in the files' order (lmask's fmnist:<split> indices)."""
    prefix = "train" if split == "train" else "t10k"
    return read_idx(os.path.join(DATA_DIR, f"{prefix}-images-idx3-ubyte.gz"), IDX_IMAGES_MAGIC, 3)


def split_labels(split):
    """uint8 [N] class indices of "train" or "test"."""
    prefix = "train" if split == "train" else "t10k"
    return read_idx(os.path.join(DATA_DIR, f"{prefix}-labels-idx1-ubyte.gz"), IDX_LABELS_MAGIC, 1)
