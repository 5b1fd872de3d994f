#!/usr/bin/python3
"""Convert a CNN exported to ONNX (from any framework) into an lmask weight file.

What it is: a command-line tool (and an importable main) that reads an ONNX
model, maps its nodes onto lmask's graph (tools/onnx_mapping.py: conv,
batchnorm, the activations, pooling, add, concat, channel scale, linear,
flatten, identity), and writes one HDF5 file: each weight as a float32
dataset named NAME.weight / NAME.bias (BatchNorm: also NAME.running_mean,
NAME.running_var) after the node it belongs to -- the torch-style prefix of
its ONNX initializer when that is "PREFIX.weight", else the node's ONNX name
with scopes as dots -- the graph description as the root attribute
lmask_graph (docs/graph_format.md), and the root attributes arch ("onnx"),
num_classes (the output's channels), input_size, resize_size, mean, std.

It refuses, in one line naming the file, the node (index, name) and op, the
first thing lmask's graph cannot hold, and exits 1 without writing anything.

What it is not: an ONNX runtime or a checker of the model's numbers; lmask
checks the file again when it loads it.

    /usr/bin/python3 tools/convert_onnx.py MODEL.onnx --out OUT.h5 [--num-classes N] [--input-size PX]

Uses Debian's python3-onnx, python3-numpy and python3-h5py (through /usr/bin/python3).
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h5py  # noqa: E402
import numpy as np  # noqa: E402

import lmask_graph  # noqa: E402
from onnx_mapping import MappingError, map_model  # noqa: E402
from onnx_reading import Refusal, read_model, shown  # noqa: E402
from cli_args import positive_int, three_floats  # noqa: E402

PROG = os.path.basename(__file__)
ARCH = "onnx"  # a file with a graph description needs no known arch (src/model/graph_from_weights.cpp)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ToolError(Exception):
    """A user-facing problem: printed as one line, never as a traceback."""


def temp_path_for(path):
    """A fresh temporary file next to `path` (same filesystem: the rename is
    atomic), covered by the repository's "*.tmp-*" ignore rule."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ToolError(f"{shown(path, None)}: output directory {shown(directory, None)} does not exist")
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp-", dir=directory)
    os.close(fd)
    umask = os.umask(0)  # mkstemp makes the file 0600; give the result ordinary permissions
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)
    return temp


def write_h5(path, tensors, description, attrs):
    """The weight file, written under a temporary name and renamed when complete."""
    temp = temp_path_for(path)
    try:
        with h5py.File(temp, "w") as f:
            for key, array in tensors.items():
                f.create_dataset(key, data=np.ascontiguousarray(array, dtype=np.float32))
            for name, value in attrs.items():
                f.attrs[name] = value
            lmask_graph.write_graph_attribute(f, description)
        os.replace(temp, path)
    except OSError as exc:
        raise ToolError(f"{shown(path, None)}: cannot write ({shown(exc)})")
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def root_attributes(args, in_shape, out_shape):
    """arch, num_classes and the preprocessing attributes lmask's loader reads."""
    classes = out_shape[1]
    if args.num_classes is not None and args.num_classes != classes:
        raise ToolError(f"{shown(args.model, None)}: the model's output has {classes} "
                        f"channels, not --num-classes {args.num_classes}")
    if len(in_shape) == 4:
        # lmask crops images square; a non-square input's graph is checked at its shorter side.
        input_size = args.input_size or min(in_shape[2], in_shape[3])
    else:
        input_size = 1  # features [N,F] are lmask's [N,F,1,1]
    resize = args.resize_size or max(input_size, round(input_size * 256 / 224))
    if resize < input_size:
        raise ToolError(f"--resize-size {resize} is smaller than the input size {input_size}")
    return {"arch": ARCH, "num_classes": np.int64(classes), "input_size": np.int64(input_size),
            "resize_size": np.int64(resize), "mean": np.asarray(args.mean, dtype=np.float64),
            "std": np.asarray(args.std, dtype=np.float64)}


def convert(args):
    """Reads, maps and writes; returns the summary line."""
    source = shown(args.model, None)
    try:
        model = read_model(args.model)
    except Refusal as exc:
        raise ToolError(f"{source}: {exc}")
    try:
        graph, tensors, in_shape, out_shape = map_model(model, args.input_size)
    except MappingError as exc:
        raise ToolError(f"{source}: {exc}")
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # A model damaged in a way no check of the mapper foresaw: still one
        # line, and named as the converter's gap, so that it gets a check.
        raise ToolError(f"{source}: cannot convert ({type(exc).__name__}: {shown(exc)}; the converter has no "
                        "check for this damage)")
    attrs = root_attributes(args, in_shape, out_shape)
    write_h5(args.out, tensors, graph.to_json(), attrs)
    return (f"wrote {args.out}: {len(graph.nodes) - 1} nodes, {len(tensors)} tensors, "
            f"{attrs['num_classes']} outputs, input size {attrs['input_size']}")


class _OneLineParser(argparse.ArgumentParser):
    """argparse's errors as the tool's one line (its default is usage + message)."""

    def error(self, message):
        raise ToolError(message)


def parse_args(argv):
    parser = _OneLineParser(
        prog=PROG,
        description="Convert a CNN exported to ONNX into lmask's HDF5 weight layout with its graph "
                    "description: float32 weights named after their nodes, root attributes arch "
                    "('onnx'), num_classes, input_size, resize_size, mean, std.",
        epilog="What maps and what is refused: README.md, section 'Weights from ONNX'.")
    parser.add_argument("model", metavar="MODEL.onnx")
    parser.add_argument("--out", required=True, metavar="OUT.h5", help="output HDF5 file (written atomically)")
    parser.add_argument("--num-classes", type=positive_int, metavar="N",
                        help="check that the model's output has N channels")
    parser.add_argument("--input-size", type=positive_int, metavar="PX",
                        help="attribute input_size, and the height and width where the model's are symbolic "
                             "(default: the input's side; the shorter one if it is not square)")
    parser.add_argument("--resize-size", type=positive_int, metavar="PX",
                        help="attribute resize_size (default input_size * 256/224)")
    parser.add_argument("--mean", type=three_floats, default=list(IMAGENET_MEAN), metavar="R,G,B",
                        help="attribute mean (default ImageNet's)")
    parser.add_argument("--std", type=three_floats, default=list(IMAGENET_STD), metavar="R,G,B",
                        help="attribute std (default ImageNet's)")
    args = parser.parse_args(argv)
    if any(s <= 0 for s in args.std):
        raise ToolError("--std values must be positive")
    return args


def main(argv=None):
    try:
        print(convert(parse_args(argv)))
    except ToolError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
