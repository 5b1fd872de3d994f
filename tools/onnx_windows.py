#!/usr/bin/python3
"""The window geometry of ONNX's Conv and pooling ops, as lmask's graph holds it.

What it is: ONNX describes a window per axis (kernel_shape, strides, pads as
[top, left, bottom, right], dilations, auto_pad); lmask's conv2d and pools
have one square kernel, one stride, one symmetric padding and one dilation
(docs/graph_format.md). These functions turn the first into the second or
refuse, saying which attribute lmask cannot hold, and check that ONNX and
lmask agree on the pooled output size where their rules differ (ceil_mode).

What it is not: a shape inference for any other op (onnx_mapping.py).
"""

import math

from onnx_reading import Refusal


def one_value(values, what):
    """The single value of a per-axis pair [h, w] that must be equal."""
    if len(values) != 2:
        raise Refusal(f"{what} {values} has {len(values)} axes; lmask's windows are 2-D")
    if values[0] != values[1]:
        raise Refusal(f"{what} {values} differs between the axes; lmask's windows are square")
    return values[0]


def symmetric_padding(attrs, hw, kernel, stride, dilation):
    """lmask's padding p for an input of spatial size hw = (H, W): pads or
    auto_pad, which must put the same p on every side."""
    auto_pad = attrs.string("auto_pad", "NOTSET")
    if auto_pad == "NOTSET":
        pads = attrs.ints("pads", [0, 0, 0, 0])
        if len(pads) != 4:
            raise Refusal(f"pads {pads} are not [top, left, bottom, right]")
        if len(set(pads)) != 1:
            raise Refusal(f"pads {pads} are not the same on all four sides; lmask pads symmetrically")
        if pads[0] < 0:
            raise Refusal(f"pads {pads} are negative")
        return pads[0]
    if auto_pad == "VALID":
        return 0
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        # ONNX: output ceil(in / stride); the total padding is what that needs,
        # split evenly when it is even, which lmask can hold.
        span = (kernel - 1) * dilation + 1
        totals = [max((math.ceil(n / stride) - 1) * stride + span - n, 0) for n in hw]
        if totals[0] != totals[1] or totals[0] % 2:
            raise Refusal(f"auto_pad {auto_pad} pads {totals[0]} rows and {totals[1]} columns at an input "
                          f"of {hw[0]}x{hw[1]}: not the same even number on both axes, so not symmetric")
        return totals[0] // 2
    raise Refusal(f"auto_pad '{auto_pad}' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER")


def conv_window(attrs, weight_shape, hw):
    """(kernel, stride, padding, dilation, groups) of a Conv; weight [O, I/g, kH, kW]."""
    kernel = one_value(list(weight_shape[2:]), "the kernel")
    if attrs.has("kernel_shape") and attrs.ints("kernel_shape") != list(weight_shape[2:]):
        raise Refusal(f"kernel_shape {attrs.ints('kernel_shape')} is not the weight's {list(weight_shape[2:])}")
    stride = one_value(attrs.ints("strides", [1, 1]), "strides")
    dilation = one_value(attrs.ints("dilations", [1, 1]), "dilations")
    if stride < 1 or dilation < 1:
        raise Refusal(f"strides {stride} and dilations {dilation} must be at least 1")
    groups = attrs.int("group", 1)
    padding = symmetric_padding(attrs, hw, kernel, stride, dilation)
    return kernel, stride, padding, dilation, groups


def conv_out_size(n, kernel, stride, padding, dilation):
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def lmask_pool_out_size(n, kernel, stride, padding, ceil_mode):
    """lmask's (and PyTorch's) rule: ceil mode drops a last window that
    would start in the right padding (src/core/pool_params.cpp)."""
    span = n + 2 * padding - kernel + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1 if span >= 0 else 0
    if ceil_mode and out > 0 and (out - 1) * stride >= n + padding:
        out -= 1
    return out


def onnx_pool_out_size(n, kernel, stride, padding, ceil_mode):
    """ONNX's rule (the operator's spec): floor or ceil, nothing dropped."""
    span = n + 2 * padding - kernel
    if span < 0:
        return 0
    return (-(-span // stride) if ceil_mode else span // stride) + 1


def pool_window(attrs, hw, average):
    """(kernel, stride, padding, ceil_mode) of a MaxPool or AveragePool at input hw."""
    kernel = one_value(attrs.ints("kernel_shape", []), "kernel_shape")
    stride = one_value(attrs.ints("strides", [1, 1]), "strides")  # ONNX's default stride is 1, not the kernel
    if not average and attrs.has("dilations") and set(attrs.ints("dilations")) != {1}:
        raise Refusal(f"dilations {attrs.ints('dilations')}: lmask's pooling has no dilation")
    if kernel < 1 or stride < 1:
        raise Refusal(f"kernel {kernel} and strides {stride} must be at least 1")
    padding = symmetric_padding(attrs, hw, kernel, stride, 1)
    if padding > kernel // 2:
        raise Refusal(f"pads {padding} exceed half the kernel {kernel}; lmask (as PyTorch) pools with at "
                      "most kernel/2 of padding")
    ceil_mode = bool(attrs.int("ceil_mode", 0))
    for n in hw:
        ours = lmask_pool_out_size(n, kernel, stride, padding, ceil_mode)
        theirs = onnx_pool_out_size(n, kernel, stride, padding, ceil_mode)
        if ours != theirs:
            raise Refusal(f"ceil_mode: at an input side of {n}, ONNX keeps a last window that starts in the "
                          f"padding ({theirs} outputs) and lmask, as PyTorch, drops it ({ours})")
        if ours < 1:
            raise Refusal(f"the window {kernel} (pads {padding}) is larger than the input side {n}")
        hangs = (ours - 1) * stride + kernel > n + 2 * padding
        if average and hangs and attrs.int("count_include_pad", 0):
            # The divisor of a window that reaches past the padded input is
            # where runtimes differ (PyTorch clips it to the padded input).
            raise Refusal(f"ceil_mode with count_include_pad: the last window at an input side of {n} "
                          "reaches past the padding, where ONNX runtimes disagree on its divisor")
    return kernel, stride, padding, ceil_mode
