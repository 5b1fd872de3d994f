#!/usr/bin/env python3
"""make_seeds.py — writes the fuzz targets' seed corpus, tests/fuzz/corpus/<target>/.

Small valid inputs of each kind, so that the fuzzers start from files that
get past the first checks: PNGs of every colour type and bit depth Pillow
writes, baseline, progressive and grey JPEGs, weight-file programs (see
weights_entry.cpp) and one raw HDF5 file, idx files plain and gzipped,
mask parameters followed by a mask PNG, and graph descriptions. Run it with
Debian's Python (/usr/bin/python3, which has h5py, numpy and Pillow) only to change the
seeds; the fuzzers add what they find to their own working corpus.
"""
import gzip
import io
import os
import struct
import sys
import zlib

import h5py
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def picture(mode, size=(7, 5), **save):
    rng = np.random.default_rng(len(mode) + size[0])
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "P": 1, "I;16": 1}[mode]
    shape = (size[1], size[0]) if channels == 1 else (size[1], size[0], channels)
    dtype = np.uint16 if mode == "I;16" else np.uint8
    array = rng.integers(0, 256 if dtype == np.uint8 else 65536, shape, dtype=dtype)
    img = Image.fromarray(array, mode if mode in ("I;16",) else None) if mode != "P" else \
        Image.fromarray(array).convert("P")
    if mode in ("L", "LA", "RGB", "RGBA") and img.mode != mode:
        img = img.convert(mode)
    out = io.BytesIO()
    img.save(out, **save)
    return out.getvalue()


def raw_png(width, height, bit_depth, colour_type, samples_per_pixel):
    """A PNG written by hand, for the 16-bit kinds Pillow does not write."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    row = bytes(range(width * samples_per_pixel * bit_depth // 8))
    pixels = b"".join(b"\x00" + row for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + \
        chunk(b"IEND", b"")


def images():
    write("image", "rgb16.png", raw_png(5, 4, 16, 2, 3))
    write("image", "grey16.png", raw_png(5, 4, 16, 0, 1))
    for mode in ("L", "LA", "RGB", "RGBA", "P"):
        write("image", f"{mode.lower()}.png", picture(mode, format="PNG"))
    write("image", "interlaced.png", picture("RGB", (9, 9), format="PNG", optimize=False))
    write("image", "baseline.jpg", picture("RGB", (16, 16), format="JPEG", quality=80))
    write("image", "progressive.jpg", picture("RGB", (16, 16), format="JPEG", progressive=True))
    write("image", "grey.jpg", picture("L", (16, 8), format="JPEG"))


def idx(dims, values):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(values)


def idx_files():
    images_ = idx([2, 3, 3], range(18))
    labels = idx([2], [1, 9])
    write("idx", "plain.idx", b"\x00" + images_)
    write("idx", "gzip.idx", b"\x00" + gzip.compress(images_, mtime=0))
    packed_images = gzip.compress(images_, mtime=0)
    write("idx", "fashion_mnist.pair",
          b"\x05" + struct.pack(">H", len(packed_images)) + packed_images + gzip.compress(labels, mtime=0))


def weights():
    # Programs (weights_entry.cpp): mode, then steps of (op, fields...).
    write("weights", "resnet18_complete.prog", bytes([3]))
    write("weights", "resnet18_nan_fc.prog", bytes([3, 0, 3, 2, 10, 0, 0]))
    write("weights", "attributes.prog", bytes([0, 0, 4, 1, 3, 1, 1, 1, 1, 0, 0, 0, 10, 1, 2, 1, 2, 0, 0, 0, 64]))
    with io.BytesIO() as raw:
        with h5py.File(raw, "w") as f:
            f.attrs["arch"] = "resnet18"
            f.attrs["num_classes"] = np.int64(3)
            f["fc.bias"] = np.arange(3, dtype=np.float32)
        write("weights", "small.h5raw", bytes([2]) + raw.getvalue())


def masks():
    params = bytes([20, 30, 1, 4, 2, 1, 3, 100, 128, 0, 0, 0, 7]) + bytes(300)
    mask = picture("L", (30, 20), format="PNG")
    # pw, ph = 30, 20 as the picture; resize 64, crop 56, not inverted.
    write("masks", "patches_and_png.bin", params + bytes([29, 19, 63, 55, 0]) + mask)
    write("masks", "params_only.bin", bytes([12, 12, 0, 255, 255, 255, 254, 3]))


def graph_json():
    """The descriptions of tests/graph_json_cases.h's two cases, as tools/lmask_graph.py writes them."""
    sys.path.insert(0, os.path.dirname(HERE))
    import graph_description_case as case  # noqa: E402
    write("graph_json", "every_op.json", case.every_op().g.to_json().encode())
    write("graph_json", "resnet18.json", case.resnet18().g.to_json().encode())


if __name__ == "__main__":
    images()
    idx_files()
    weights()
    masks()
    graph_json()
