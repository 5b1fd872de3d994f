#!/usr/bin/python3
"""Convert a torchvision checkpoint into lmask's HDF5 weight layout.

What it is: a command-line tool (and an importable module) that reads a
PyTorch checkpoint -- a plain state_dict, a dict holding one under 'state_dict'
or 'model', or a whole pickled model -- validates it against the torchvision
model of the requested architecture, and writes one HDF5 dataset per
state_dict key, named exactly like the key ("conv1.weight",
"layer1.0.bn2.running_var", "features.3.squeeze.bias", "classifier.weight",
...), in PyTorch shapes (conv weights OIHW), float32 or, with --fp16, float16.
`*.num_batches_tracked` is skipped. Root attributes: `arch`, `num_classes`,
`input_size`, `resize_size`, `mean`, `std`, and `class_names` when --labels is
given. With --random-init it instead writes an untrained, seeded model with
sane activation scales (random_init.py).

Architectures: those lmask builds (torchvision_archs.py): the ResNets,
SqueezeNet 1.0/1.1, DenseNet-121/161/169/201, MobileNetV3-Large/Small and
EfficientNet-B0..B7. DenseNet checkpoints of the old key style
("denselayer1.norm.1.weight") are renamed to today's ("denselayer1.norm1.weight"),
as torchvision's own loader does, so that the C++ builder finds them.

What it is not: a trainer, a fine-tuner or an accuracy check. It does not read
lmask files back (reference_logits.py does that).

Importable API: build_model(arch, num_classes, initialize=True), load_checkpoint(path),
load_into_model(model, state_dict, arch, source), num_classes_of(model, arch),
calibrate_batchnorm(...), write_h5(state_dict, path, arch, num_classes, fp16, extras).
"""

import argparse
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Mapping

import h5py
import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from random_init import calibrate, calibrate_batchnorm  # noqa: E402,F401  (sibling; re-exported)
from torchvision_archs import (  # noqa: E402,F401  (RESNET_ARCHS re-exported)
    RESNET_ARCHS, SUPPORTED_ARCHS, classifier_key, family)
from cli_args import non_negative_int, positive_int, three_floats  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
NBT_SUFFIX = "num_batches_tracked"
PROG = os.path.basename(__file__)


class ToolError(Exception):
    """A user-facing problem: printed as one line, never as a traceback."""


# --------------------------------------------------------------------------
# Model construction and checkpoint reading
# --------------------------------------------------------------------------

@contextlib.contextmanager
def _init_skipped():
    """Turns torch.nn.init's in-place initialisers into no-ops for a moment.

    Random init of ~25M parameters costs about half a second, wasted when every
    parameter is overwritten right after by a strict load. BatchNorm's running
    statistics are buffers reset outside torch.nn.init, so they stay correct.
    """
    names = [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(torch.nn.init, n) for n in names}
    try:
        for n in names:
            setattr(torch.nn.init, n, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for n, fn in saved.items():
            setattr(torch.nn.init, n, fn)


def build_model(arch, num_classes, initialize=True):
    """Returns a torchvision model of `arch` (eval mode, float32).

    initialize=False leaves parameters as uninitialised memory: only for callers
    that load every parameter next (load_into_model checks that they all exist).
    """
    if arch not in SUPPORTED_ARCHS:
        raise ToolError(f"unsupported arch '{arch}' (supported: {', '.join(SUPPORTED_ARCHS)})")
    if int(num_classes) < 1:
        raise ToolError(f"num_classes must be >= 1, got {num_classes}")
    constructor = getattr(torchvision.models, arch)
    # weights=None: never download; the caller supplies the parameters.
    with contextlib.nullcontext() if initialize else _init_skipped():
        return constructor(weights=None, num_classes=int(num_classes)).eval()


def _torch_load(path):
    """torch.load on CPU, turning every unpickling failure into a ToolError."""
    if not os.path.isfile(path):
        raise ToolError(f"{path}: no such file")
    try:
        # A whole pickled model needs full unpickling, so weights_only stays off;
        # only convert checkpoints you trust.
        return torch.load(path, map_location="cpu")
    except Exception as exc:  # pickle, zip and torch errors all mean "unreadable"
        raise ToolError(f"{path}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})")


def _unwrap_state_dict(obj, path):
    """Finds the state_dict inside a checkpoint object (dict, wrapper dict or module)."""
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if not isinstance(obj, Mapping):
        raise ToolError(f"{path}: holds a {type(obj).__name__}, not a state_dict or model")
    for wrapper_key in ("state_dict", "model"):
        inner = obj.get(wrapper_key)
        if isinstance(inner, (Mapping, torch.nn.Module)):
            return _unwrap_state_dict(inner, path)
    for key, value in obj.items():
        if not isinstance(key, str) or not torch.is_tensor(value):
            raise ToolError(f"{path}: entry '{key}' is not a tensor, and there is no "
                            "'state_dict' or 'model' entry to use instead")
    return obj


def _strip_prefix(state_dict, prefix="module."):
    """Drops the DataParallel/DistributedDataParallel key prefix."""
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state_dict.items()}


def load_checkpoint(path):
    """Reads `path` and returns a plain {key: tensor} state_dict without 'module.'."""
    state_dict = _strip_prefix(_unwrap_state_dict(_torch_load(path), path))
    if not state_dict:
        raise ToolError(f"{path}: the state_dict is empty")
    return state_dict


def infer_num_classes(state_dict, arch, source):
    """Number of classes from the classifier's weight, for checkpoints; None without one.

    A checkpoint without the classifier key is usually of another
    architecture, which the key check says better (naming the first missing
    key and how many more) than a request for --num-classes would.
    """
    key, rank = classifier_key(arch)
    weight = state_dict.get(key)
    if weight is None:
        return None
    if weight.dim() != rank:
        raise ToolError(f"{source}: '{key}' (the {arch} classifier) has {weight.dim()} dimensions, "
                        f"expected {rank}")
    return int(weight.shape[0])


def num_classes_of(model, arch):
    """The model's number of classes: rows of its classifier weight."""
    key, _ = classifier_key(arch)
    return int(model.state_dict()[key].shape[0])


# DenseNet checkpoints from before torchvision 0.3 name a dense layer's modules
# "norm.1", "conv.2", ...; torchvision's own loader renames them
# (densenet.py, _load_state_dict), and so does this one: the C++ builder and
# torchvision's modules both know only "norm1", "conv2".
_LEGACY_DENSE_LAYER_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$")


def remap_legacy_keys(state_dict, arch):
    """`state_dict` with old DenseNet dense-layer key names renamed; others as they are."""
    if family(arch) != "densenet":
        return state_dict
    renamed = {}
    for key, value in state_dict.items():
        match = _LEGACY_DENSE_LAYER_KEY.match(key)
        renamed[match.group(1) + match.group(2) if match else key] = value
    return renamed


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

def _without_nbt(keys):
    return {k for k in keys if not k.endswith(NBT_SUFFIX)}


def _check_keys(expected, given, arch, source):
    """Raises a ToolError naming the first missing or unexpected key."""
    missing = sorted(_without_nbt(expected) - _without_nbt(given))
    unexpected = sorted(_without_nbt(given) - _without_nbt(expected))
    for kind, keys in (("missing key", missing), ("unexpected key", unexpected)):
        if keys:
            more = f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""
            raise ToolError(f"{source}: {kind} '{keys[0]}' for {arch}{more}")


def _check_tensors(expected, given, arch, num_classes, source):
    """Raises a ToolError naming the first key with a wrong shape or dtype, or NaN/Inf."""
    for key, ref in expected.items():
        if key.endswith(NBT_SUFFIX):
            continue
        value = given[key]
        if not torch.is_floating_point(value):
            raise ToolError(f"{source}: key '{key}' has dtype {value.dtype}, "
                            "expected a float tensor")
        if tuple(value.shape) != tuple(ref.shape):
            raise ToolError(f"{source}: key '{key}' has shape {list(value.shape)}, "
                            f"{arch} with num_classes={num_classes} expects {list(ref.shape)}")
        # The sum is NaN/Inf whenever any element is, and is cheap to compute;
        # the elementwise test only runs to rule out a (harmless) overflow of the sum.
        if not torch.isfinite(value.sum()) and not torch.isfinite(value).all():
            raise ToolError(f"{source}: key '{key}' contains NaN or Inf")


def load_into_model(model, state_dict, arch, source):
    """Validates `state_dict` against `model` and loads it with strict=True.

    num_batches_tracked entries are optional: old checkpoints and lmask files
    lack them, and they do not affect eval-mode outputs.
    """
    expected = model.state_dict()
    _check_keys(expected.keys(), state_dict.keys(), arch, source)
    _check_tensors(expected, state_dict, arch, num_classes_of(model, arch), source)
    full = {k: state_dict.get(k, v) if k.endswith(NBT_SUFFIX) else state_dict[k]
            for k, v in expected.items()}
    try:
        model.load_state_dict(full, strict=True)
    except RuntimeError as exc:  # should be unreachable after the checks above
        raise ToolError(f"{source}: load_state_dict failed: {str(exc).splitlines()[0]}")
    return model


# --------------------------------------------------------------------------
# Random initialisation
# --------------------------------------------------------------------------

def random_model(arch, num_classes, seed, calibrate_batches, size):
    """A seeded untrained model with sane activations (random_init.calibrate),
    or torchvision's initialisation as it is when calibrate_batches is 0."""
    torch.manual_seed(seed)
    model = build_model(arch, num_classes)
    return calibrate(model, calibrate_batches, 8, size, seed)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def _dataset_array(key, tensor, dtype, path):
    """The numpy array stored for one key; refuses values that do not fit."""
    array = tensor.detach().cpu().to(dtype).contiguous().numpy()
    if not np.isfinite(array).all():
        # float16 tops out at 65504; a silent Inf would poison every output.
        kind = "float16 (|value| > 65504)" if dtype == torch.float16 else "float32"
        raise ToolError(f"{path}: key '{key}' does not fit in {kind}")
    return array


def _write_attrs(f, arch, num_classes, extras):
    f.attrs["arch"] = str(arch)  # h5py's default for str: variable-length UTF-8
    f.attrs["num_classes"] = np.int64(num_classes)
    for name, value in (extras or {}).items():
        if value is None:
            continue
        if name == "class_names":
            f.attrs.create(name, list(value), dtype=h5py.string_dtype("utf-8"))
        elif isinstance(value, (list, tuple)):
            f.attrs[name] = np.asarray(value, dtype=np.float64)
        elif isinstance(value, str):
            f.attrs[name] = value
        else:
            f.attrs[name] = np.int64(value) if isinstance(value, int) else np.float64(value)


def _libver(extras):
    # Compact attribute storage (the most compatible format) caps an attribute at
    # 64 KiB; thousands of class names need the 1.8 format's dense storage.
    names = (extras or {}).get("class_names") or []
    return "v108" if len(names) > 2000 else "earliest"


def temp_path_for(path):
    """A fresh temporary file next to `path`, to be renamed onto it when complete."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ToolError(f"{path}: output directory {directory} does not exist")
    # ".NAME.tmp-XXXX" in the target directory: same filesystem, so os.replace is
    # atomic, and the repository's .gitignore already covers "*.tmp-*".
    fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".tmp-", dir=directory)
    os.close(fd)
    # mkstemp makes the file private (0600); give the result ordinary permissions.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temp, 0o666 & ~umask)
    return temp


def write_h5(state_dict, path, arch, num_classes, fp16=False, extras=None):
    """Writes `state_dict` in lmask's layout to `path`, atomically (temp + rename).

    extras: optional root attributes, e.g. {"input_size": 224, "mean": [...],
    "class_names": [...]}; None values are left out.
    Returns the number of datasets written.
    """
    dtype = torch.float16 if fp16 else torch.float32
    temp = temp_path_for(path)
    count = 0
    try:
        with h5py.File(temp, "w", libver=_libver(extras)) as f:
            for key, tensor in state_dict.items():
                if key.endswith(NBT_SUFFIX):
                    continue
                f.create_dataset(key, data=_dataset_array(key, tensor, dtype, path))
                count += 1
            _write_attrs(f, arch, num_classes, extras)
        os.replace(temp, path)
    except OSError as exc:
        raise ToolError(f"{path}: cannot write ({exc})")
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return count


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Convert a torchvision checkpoint (ResNet, SqueezeNet, DenseNet, "
                    "MobileNetV3, EfficientNet; or a seeded random model) "
                    "to lmask's HDF5 weight layout: one dataset per state_dict key, "
                    "PyTorch shapes, float32 (float16 with --fp16).",
        epilog="Random init: torch.manual_seed(SEED) then the torchvision constructor, "
               "then calibration on --calibrate-batches batches of 8 seeded N(0,1) inputs "
               "of PX^2 pixels (--input-size). With BatchNorm, a fresh model's running "
               "stats (mean 0, var 1) make activations explode or vanish through deep "
               "networks, so they are measured: the BatchNorms alone in train mode with "
               "momentum=None (cumulative average), under torch.no_grad(), then eval(). "
               "SqueezeNet has no BatchNorm: its conv biases are drawn N(0, 0.1), then "
               "each conv, in forward order, is divided by the std of its output on the "
               "calibration inputs (LSUV-style), so every conv output has std 1. "
               "The output is numerically sane, not accurate.")
    parser.add_argument("checkpoint", nargs="?", metavar="CHECKPOINT.pth",
                        help="state_dict, dict with 'state_dict'/'model', or pickled model "
                             "(a 'module.' prefix is stripped)")
    parser.add_argument("--random-init", action="store_true",
                        help="write a seeded untrained model instead, its BatchNorm statistics "
                             "(or SqueezeNet's conv scales) calibrated on random inputs (see below)")
    parser.add_argument("--arch", required=True, choices=SUPPORTED_ARCHS)
    parser.add_argument("--out", required=True, metavar="W.h5", help="output HDF5 file")
    parser.add_argument("--fp16", action="store_true", help="store float16 (half the size)")
    parser.add_argument("--num-classes", type=positive_int, metavar="N",
                        help="default: rows of the classifier weight in the checkpoint (fc.weight, "
                             "classifier.weight, ...); 1000 for --random-init")
    parser.add_argument("--seed", type=int, default=None, help="--random-init seed (default 0)")
    parser.add_argument("--calibrate-batches", type=non_negative_int, default=None, metavar="N",
                        help="--random-init calibration batches (default 4; 0: torchvision's "
                             "initialisation as it is)")
    parser.add_argument("--input-size", type=positive_int, default=224, metavar="PX",
                        help="attribute input_size: crop side in pixels (default 224)")
    parser.add_argument("--resize-size", type=positive_int, default=256, metavar="PX",
                        help="attribute resize_size: shorter side before the crop (default 256)")
    parser.add_argument("--mean", type=three_floats, default=list(IMAGENET_MEAN),
                        metavar="R,G,B", help="attribute mean (default ImageNet 0.485,0.456,0.406)")
    parser.add_argument("--std", type=three_floats, default=list(IMAGENET_STD),
                        metavar="R,G,B", help="attribute std (default ImageNet 0.229,0.224,0.225)")
    parser.add_argument("--labels", metavar="FILE",
                        help="class names, one per line (UTF-8), stored as attribute class_names")
    args = parser.parse_args(argv)
    _check_mode(parser, args)
    return args


def _check_mode(parser, args):
    """Exactly one source; random-init-only options only with --random-init."""
    if args.random_init == (args.checkpoint is not None):
        parser.error("give either CHECKPOINT.pth or --random-init (exactly one)")
    if not args.random_init:
        for flag, value in (("--seed", args.seed), ("--calibrate-batches", args.calibrate_batches)):
            if value is not None:
                parser.error(f"{flag} only applies with --random-init")
    if any(s <= 0 for s in args.std):
        parser.error("--std values must be positive")


def read_labels(path, num_classes):
    """Class names, one per line; the count must equal num_classes."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"{path}: cannot read labels ({exc})")
    while lines and not lines[-1].strip():
        lines.pop()  # a trailing blank line is an editor artefact, not a class
    names = [line.strip() for line in lines]
    for number, name in enumerate(names, 1):
        if not name:
            raise ToolError(f"{path}: line {number} is blank")
    if len(names) != num_classes:
        raise ToolError(f"{path}: {len(names)} labels, but the model has {num_classes} classes")
    return names


def model_from_args(args):
    """The validated (or random) model and where it came from."""
    if args.random_init:
        num_classes = args.num_classes or 1000
        batches = 4 if args.calibrate_batches is None else args.calibrate_batches
        seed = 0 if args.seed is None else args.seed
        return random_model(args.arch, num_classes, seed, batches, args.input_size)
    state_dict = remap_legacy_keys(load_checkpoint(args.checkpoint), args.arch)
    # Without a classifier key (None) the count does not matter: the key
    # check below refuses the checkpoint for the missing key.
    num_classes = args.num_classes or infer_num_classes(state_dict, args.arch, args.checkpoint) or 1000
    model = build_model(args.arch, num_classes, initialize=False)
    return load_into_model(model, state_dict, args.arch, args.checkpoint)


def main(argv=None):
    args = parse_args(argv)
    try:
        model = model_from_args(args)
        num_classes = num_classes_of(model, args.arch)
        extras = {"input_size": args.input_size, "resize_size": args.resize_size,
                  "mean": args.mean, "std": args.std,
                  "class_names": read_labels(args.labels, num_classes) if args.labels else None}
        count = write_h5(model.state_dict(), args.out, args.arch, num_classes, args.fp16, extras)
    except ToolError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    size_mb = os.path.getsize(args.out) / 2**20
    print(f"wrote {args.out}: {args.arch}, {num_classes} classes, {count} tensors, "
          f"{'float16' if args.fp16 else 'float32'}, {size_mb:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
