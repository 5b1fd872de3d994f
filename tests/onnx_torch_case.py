#!/usr/bin/python3
"""A PyTorch model exported by torch.onnx.export, and its logits, for tests/test_onnx.cpp.

What it is: the PyTorch half of the ONNX round trip. It builds a seeded,
randomly initialised model -- a torchvision classifier (10 classes, its
BatchNorm statistics calibrated on random inputs so the logits are sane)
or "patterns", a small module written here so that the export holds every
pattern the converter fuses that the torchvision nets do not (see Patterns)
-- exports it to ONNX and runs it in eval mode on a seeded input:

    OUT/model.onnx   torch.onnx.export (opset 14; "patterns": 13, where
                     hardswish is exported as x * HardSigmoid(x))
    OUT/ref.h5       "input" [2,3,S,S] and "logits" [2,classes], float32

    onnx_torch_case.py ARCH OUT [--size S]

The test then runs tools/convert_onnx.py on model.onnx and compares lmask's
logits with these.
"""

import argparse
import os
import sys

import h5py
import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from convert_torchvision import calibrate_batchnorm  # noqa: E402

ARCHS = ("resnet18", "squeezenet1_1", "densenet121", "mobilenet_v3_large", "efficientnet_b0")


class Patterns(torch.nn.Module):
    """What the exporter writes for: a conv's added per-channel shift (Add,
    folded into its bias), relu6 (Relu + Clip), hardswish at opset 13
    (x * HardSigmoid(x)), a dilated depthwise conv, silu (x * Sigmoid(x)),
    squeeze-excitation with hardsigmoid (Mul by [N,C,1,1]), ceil-mode
    pools, concat, x.mean((2, 3)) (ReduceMean), x.view(N, -1) (Reshape),
    x @ W + b (MatMul + Add) and BatchNorm1d on features."""

    def __init__(self, size):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.shift = torch.nn.Parameter(torch.randn(1, 8, 1, 1))
        self.bn = torch.nn.BatchNorm2d(8)
        self.dw = torch.nn.Conv2d(8, 8, 3, stride=2, padding=2, dilation=2, groups=8)
        self.fc1 = torch.nn.Conv2d(8, 4, 1)
        self.fc2 = torch.nn.Conv2d(4, 8, 1)
        pooled = -(-(size // 2 - 1) // 2) + 1  # both pools' side at this input size (ceil mode)
        self.w = torch.nn.Parameter(torch.randn(16 * pooled * pooled + 16, 6) * 0.1)
        self.b = torch.nn.Parameter(torch.randn(6))
        self.bn1 = torch.nn.BatchNorm1d(6)
        for bn in (self.bn, self.bn1):  # statistics far from (0, 1), so that BatchNorm is not the identity
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)

    def forward(self, x):
        x = F.relu6(self.bn(self.conv(x) + self.shift))
        x = F.hardswish(x)
        y = F.silu(self.dw(x))
        se = F.hardsigmoid(self.fc2(F.relu(self.fc1(F.adaptive_avg_pool2d(y, 1)))))
        y = F.avg_pool2d(y * se, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        z = F.max_pool2d(x, 3, stride=4, padding=1, ceil_mode=True)
        y = torch.cat([y, z], 1)
        g = torch.sigmoid(y.mean((2, 3), keepdim=True))
        f = torch.cat([y.view(y.size(0), -1), g.view(g.size(0), -1)], 1)
        return self.bn1(f @ self.w + self.b)


def build(arch, size):
    torch.manual_seed(0)
    if arch == "patterns":
        return Patterns(size).eval(), 13
    model = getattr(torchvision.models, arch)(weights=None, num_classes=10)
    # Two batches of 8 are enough for activations of a sane size at 64 px.
    return calibrate_batchnorm(model, batches=2, batch_size=8, size=size, seed=1), 14


def main(argv):
    parser = argparse.ArgumentParser(prog="onnx_torch_case.py")
    parser.add_argument("arch", choices=ARCHS + ("patterns",))
    parser.add_argument("out")
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the test runs beside others on two cores
    model, opset = build(args.arch, args.size)
    x = torch.randn(2, 3, args.size, args.size, generator=torch.Generator().manual_seed(5))
    os.makedirs(args.out, exist_ok=True)
    with torch.no_grad():
        logits = model(x)
        torch.onnx.export(model, x, os.path.join(args.out, "model.onnx"), opset_version=opset,
                          input_names=["image"], output_names=["logits"])
    with h5py.File(os.path.join(args.out, "ref.h5"), "w") as f:
        f.create_dataset("input", data=x.numpy())
        f.create_dataset("logits", data=logits.numpy())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
