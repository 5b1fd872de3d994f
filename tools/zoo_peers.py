#!/usr/bin/python3
"""The benchmark peers' side of a torchvision model in lmask's weight layout.

What it is: for a weight file that names a torchvision architecture (`arch`
attribute, one dataset per state_dict key: convert_torchvision.py's layout,
or ../shared/golden/zoo/<arch>_random.h5), two jobs the benchmarks
(tools/bench_zoo.sh) need from PyTorch:

    zoo_peers.py export --weights W.h5 --out M.onnx
        torch.onnx.export of the model with these weights, opset 17, the batch
        dimension dynamic: what ONNX Runtime runs (tools/bench_ort.js).
    zoo_peers.py bench --weights W.h5 --batch 8 --threads 1 --iters 10
        PyTorch's clean eval forward (float32, NCHW, torch.inference_mode),
        one JSON line: best and median images/s over the timed iterations.

The input is a fixed seeded N(0,1) batch at --size (224). What it is not: a
converter (convert_torchvision.py) or an accuracy check (reference_logits.py).
Uses Debian's python3-torch, python3-torchvision, python3-h5py.
"""

import argparse
import json
import os
import statistics
import sys
import time

import h5py
import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_args import non_negative_int, positive_int  # noqa: E402

PROG = os.path.basename(__file__)


class ToolError(Exception):
    """A user-facing problem: one line, no traceback."""


def load_model(path):
    """The torchvision model the file's `arch` names, with its tensors, in eval mode."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ToolError(f"{path}: cannot open as HDF5 ({e})")
    with f:
        arch = f.attrs.get("arch")
        if isinstance(arch, bytes):
            arch = arch.decode()
        if not arch or not hasattr(torchvision.models, str(arch)):
            raise ToolError(f"{path}: attribute 'arch' ({arch!r}) is not a torchvision model")
        classes = int(f.attrs.get("num_classes", 1000))
        state = {k: torch.from_numpy(np.asarray(f[k][()], dtype=np.float32 if f[k].dtype.kind == "f" else np.int64))
                 for k in f.keys()}
    model = getattr(torchvision.models, arch)(weights=None, num_classes=classes)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ToolError(f"{path}: not a {arch}: {str(e).splitlines()[0]}")
    return model.eval()


def random_input(batch, size, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, size, size, generator=g)


def export(args):
    model = load_model(args.weights)
    x = random_input(1, args.size)
    tmp = args.out + ".tmp"
    torch.onnx.export(model, x, tmp, opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    os.replace(tmp, args.out)  # complete or absent


def bench(args):
    torch.set_num_threads(args.threads)
    model = load_model(args.weights)
    x = random_input(args.batch, args.size)
    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.iters):
            t0 = time.perf_counter()
            model(x)
            if i >= args.warmup:
                times.append(time.perf_counter() - t0)
    print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": args.threads, "batch": args.batch,
                      "iters": args.iters, "best_images_per_s": round(args.batch / min(times), 3),
                      "median_images_per_s": round(args.batch / statistics.median(times), 3)}))


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="job", required=True)
    e = sub.add_parser("export", help="write the model as ONNX")
    e.add_argument("--weights", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--size", type=positive_int, default=224)
    b = sub.add_parser("bench", help="time PyTorch's clean forward")
    b.add_argument("--weights", required=True)
    b.add_argument("--batch", type=positive_int, default=1)
    b.add_argument("--threads", type=positive_int, default=1)
    b.add_argument("--iters", type=positive_int, default=10)
    b.add_argument("--warmup", type=non_negative_int, default=2)
    b.add_argument("--size", type=positive_int, default=224)
    args = parser.parse_args(argv)
    try:
        (export if args.job == "export" else bench)(args)
    except ToolError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
