#!/usr/bin/env python3
"""golden_cases_lmw.py — the golden inputs, masks and expected logits as a
.lmw tensor bundle, for the embedded test binary (which has no HDF5).

    golden_cases_lmw.py ../shared/golden/cases.h5 OUT.lmw
    golden_cases_lmw.py ../shared/golden/cases.h5 OUT.lmw --arch ARCH ../shared/golden/zoo/zoo_cases.h5

Writes input [3,3,224,224], mask [3,6,224,224], expected_clean [3,1000] and
expected_layer [3,6,1000] as float32 in the .lmw layout of
docs/lmw-format.md (arch "golden-cases"; the attributes are placeholders).
With --arch the expected logits are zoo_cases.h5's expected/ARCH/clean and
expected/ARCH/layer (the same images and masks), and the arch is
"golden-zoo-ARCH": the embedded test then uses the zoo's tolerance.
An independent writer of the format: zlib's CRC-32 and numpy's layout must
agree with the C++ reader, or the embedded test fails to load this file.
"""
import struct
import sys
import zlib

import h5py
import numpy as np

HEADER, ENTRY, ALIGN = 128, 128, 64


def align(v):
    return (v + ALIGN - 1) // ALIGN * ALIGN


def main(src, out, arch=None, zoo=None):
    with h5py.File(src, "r") as f:
        arrays = {"input": f["input"][()], "mask": f["mask"][()]}
        expected = f
        if arch is not None:
            expected = h5py.File(zoo, "r")
            if f"expected/{arch}/clean" not in expected:
                raise SystemExit(f"{zoo}: no expected logits for '{arch}'")
        prefix = "expected/" if arch is None else f"expected/{arch}/"
        arrays["expected_clean"] = expected[prefix + "clean"][()]
        arrays["expected_layer"] = expected[prefix + "layer"][()]
    names = sorted(arrays)
    table_end = HEADER + ENTRY * len(names)
    payload_offset = align(table_end)
    offset, entries, payload = payload_offset, [], []
    for name in names:
        a = np.ascontiguousarray(arrays[name], dtype="<f4")
        if not 1 <= a.ndim <= 4:
            raise SystemExit(f"{name}: rank {a.ndim}")
        dims = list(a.shape) + [0] * (4 - a.ndim)
        entry = name.encode().ljust(64, b"\0")
        entry += struct.pack("<II4IQQ", 0, a.ndim, *dims, offset, a.nbytes).ljust(ENTRY - 64, b"\0")
        entries.append(entry)
        payload.append((offset, a.tobytes()))
        offset = align(offset + a.nbytes)
    size = payload[-1][0] + len(payload[-1][1])
    body = bytearray(size)
    body[HEADER:table_end] = b"".join(entries)
    for off, data in payload:
        body[off:off + len(data)] = data
    header = b"LMASKLMW" + struct.pack("<II", 1, 0) + struct.pack("<QIIII", size, len(names), 1000, 224, 256)
    header += struct.pack("<3f3f", 0.485, 0.456, 0.406, 0.229, 0.224, 0.225)
    header += (b"golden-cases" if arch is None else f"golden-zoo-{arch}".encode()).ljust(32, b"\0")
    header += struct.pack("<QQIIQ", HEADER, table_end, 0, 0, payload_offset)
    assert len(header) == HEADER
    body[:HEADER] = header
    body[12:16] = struct.pack("<I", zlib.crc32(bytes(body[16:])) & 0xFFFFFFFF)
    with open(out, "wb") as f:
        f.write(body)


if __name__ == "__main__":
    if len(sys.argv) == 3:
        main(sys.argv[1], sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[3] == "--arch":
        main(sys.argv[1], sys.argv[2], sys.argv[4], sys.argv[5])
    else:
        raise SystemExit(__doc__)
