#!/usr/bin/python3
"""PyTorch reference outputs for an lmask weight file (for round-trip tests).

What it is: loads lmask's HDF5 weights (see convert_torchvision.py) back into
the stock torchvision model named by the file's `arch` / `num_classes`
attributes (float16 datasets are upcast to float32), draws a seeded N(0,1)
input [batch,3,size,size], runs the eval-mode forward in float32 and writes
`input`, `logits` [B,num_classes] and `features` [B,C] to an HDF5 file,
atomically. The features are what lmask's graph marks as its features node
(torchvision_archs.features_site): the flattened pooled vector the classifier
reads, and for SqueezeNet, whose classifier ends with the pool, that pool's
output. Every architecture of torchvision_archs.SUPPORTED_ARCHS.

What it is not: a preprocessing reference (the input is noise, not an image),
a benchmark (bench_torch.py) or a layer-masking reference (the golden cases
hold those). Importable: load_weights_h5(path), reference_outputs(model, x, arch),
random_input(batch, size, seed).
"""

import argparse
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torchvision import (  # noqa: E402  (needs the path above)
    NBT_SUFFIX, SUPPORTED_ARCHS, ToolError, build_model, load_into_model, temp_path_for)
from torchvision_archs import features_site  # noqa: E402
from cli_args import positive_int  # noqa: E402

PROG = os.path.basename(__file__)


def _attr(f, path, name):
    if name not in f.attrs:
        raise ToolError(f"{path}: root attribute '{name}' is missing")
    value = f.attrs[name]
    return value.decode() if isinstance(value, bytes) else value


def _read_datasets(f, path):
    """{key: float32 tensor} for every float dataset, skipping num_batches_tracked."""
    state_dict = {}

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset) or name.endswith(NBT_SUFFIX):
            return
        if obj.dtype.kind != "f":
            raise ToolError(f"{path}: dataset '{name}' has dtype {obj.dtype}, expected float")
        # float16 files store rounded weights; the reference computes in float32.
        state_dict[name] = torch.from_numpy(np.asarray(obj[()], dtype=np.float32))

    f.visititems(visit)
    return state_dict


def load_weights_h5(path):
    """(model, arch): the eval-mode torchvision model holding lmask file `path`'s weights."""
    if not os.path.isfile(path):
        raise ToolError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as f:
            arch = str(_attr(f, path, "arch"))
            num_classes = _attr(f, path, "num_classes")
            state_dict = _read_datasets(f, path)
    except OSError as exc:
        raise ToolError(f"{path}: cannot read HDF5 ({exc})")
    if arch not in SUPPORTED_ARCHS:
        raise ToolError(f"{path}: attribute arch '{arch}' is not an architecture lmask builds "
                        f"(supported: {', '.join(SUPPORTED_ARCHS)})")
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ToolError(f"{path}: attribute num_classes is {num_classes!r}, "
                        "expected a positive integer")
    model = build_model(arch, int(num_classes), initialize=False)
    return load_into_model(model, state_dict, arch, path).eval(), arch


def random_input(batch, size, seed):
    """Seeded N(0,1) input; a private generator keeps it independent of global RNG use."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, size, size, generator=generator, dtype=torch.float32)


def reference_outputs(model, x, arch):
    """(logits, features) of the eval forward; features [B, C] as features_site says."""
    captured = {}
    module_name, side = features_site(arch)
    module = getattr(model, module_name)
    if side == "input":
        hook = module.register_forward_pre_hook(
            lambda _module, inputs: captured.__setitem__("features", inputs[0]))
    else:
        hook = module.register_forward_hook(
            lambda _module, _inputs, output: captured.__setitem__("features", output))
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        hook.remove()
    return logits, torch.flatten(captured["features"], 1)


def write_reference(path, x, logits, features, attrs):
    """Writes input/logits/features as float32, atomically."""
    temp = temp_path_for(path)
    try:
        with h5py.File(temp, "w") as f:
            for name, tensor in (("input", x), ("logits", logits), ("features", features)):
                f.create_dataset(name, data=tensor.detach().numpy().astype(np.float32))
            for name, value in attrs.items():
                f.attrs[name] = value
        os.replace(temp, path)
    except OSError as exc:
        raise ToolError(f"{path}: cannot write ({exc})")
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run torchvision on lmask HDF5 weights with a seeded N(0,1) input and "
                    "write input [B,3,S,S], logits [B,classes] and features [B,C] "
                    "(the classifier's pooled input; SqueezeNet: its pool's output) "
                    "as float32 HDF5.")
    parser.add_argument("--weights", required=True, metavar="W.h5", help="lmask weight file")
    parser.add_argument("--out", required=True, metavar="REF.h5", help="output HDF5 file")
    parser.add_argument("--batch", type=positive_int, default=2, help="batch size (default 2)")
    parser.add_argument("--size", type=positive_int, default=224,
                        help="input height = width in pixels (default 224; at least 32)")
    parser.add_argument("--seed", type=int, default=0, help="input seed (default 0)")
    args = parser.parse_args(argv)
    if args.size < 32:
        # Below 32 px the five stride-2 stages (SqueezeNet: the stem and three
        # ceil-mode pools) leave nothing to pool.
        parser.error("--size must be at least 32")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        model, arch = load_weights_h5(args.weights)
        x = random_input(args.batch, args.size, args.seed)
        logits, features = reference_outputs(model, x, arch)
        # Recorded because the summation order, hence the last bits, depends on it.
        attrs = {"arch": arch, "seed": np.int64(args.seed),
                 "threads": np.int64(torch.get_num_threads()),
                 "torch_version": str(torch.__version__)}
        write_reference(args.out, x, logits, features, attrs)
    except ToolError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: input {list(x.shape)}, logits {list(logits.shape)} "
          f"(std {logits.std().item():.3g}), features {list(features.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
