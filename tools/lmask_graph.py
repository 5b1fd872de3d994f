#!/usr/bin/python3
"""Describe a CNN as lmask's graph description and store it in a weight file.

What it is: the Python writer of the `lmask-graph` JSON format
(docs/graph_format.md), for converters of architectures lmask has no C++
builder for. A GraphBuilder adds nodes as a model's forward runs them;
each weighted node names its tensors by their state_dict keys, so the
weight file keeps storing each tensor once, under its torchvision name.
to_json() writes the same bytes as the C++ writer (graph_to_json in
include/lmask/graph_json.h); write_graph_attribute() stores the text as the
root attribute `lmask_graph` that lmask's loader reads.

What it is not: a checker of the graph's shapes (lmask checks them against
the datasets when it reads the file) or a model exporter; it writes what it
is told, refusing only what the format cannot hold.

    g = GraphBuilder(in_channels=3)
    x = g.input()
    y = g.conv2d(x, "features.0.0", kernel=3, stride=2, padding=1, bias=False)
    y = g.batchnorm(y, "features.0.1", eps=1e-3)
    y = g.activation(y, "hardswish", name="features.0.2")
    ...
    g.set_output(logits)
    with h5py.File(path, "w") as f:
        ...datasets...
        write_graph_attribute(f, g.to_json())

Uses only Debian's python3-numpy and python3-h5py (through /usr/bin/python3).
"""

import json

import numpy as np

FORMAT = "lmask-graph"
VERSION = 1  # the format version written; lmask refuses newer ones
ATTRIBUTE = "lmask_graph"
ACTIVATIONS = ("relu", "relu6", "hardswish", "hardsigmoid", "silu", "sigmoid")


class GraphError(ValueError):
    """A node the format cannot hold (a bad input id, an unknown activation...)."""


def _float32_shortest(value):
    """The double of the shortest decimal that reads back to float32(value).

    lmask keeps eps as a float; writing it this way gives 0.001 for 1e-3,
    whether it came in as a Python float or a numpy float32, as the C++
    writer does.
    """
    f = np.float32(value)
    if not np.isfinite(f) or f <= 0:
        raise GraphError(f"eps {value!r} is not a positive number")
    for digits in range(1, 10):
        text = f"{float(f):.{digits}g}"
        if np.float32(text) == f:
            return float(text)
    return float(f)  # unreachable: 9 significant digits identify every float32


def _whole(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise GraphError(f"{name} is {value!r}; expected a whole number from {lo}")
    return int(value)


class GraphBuilder:
    """Nodes in the order they are added (inputs first); ids are list positions."""

    def __init__(self, in_channels=3):
        self.in_channels = _whole("in_channels", in_channels, 1)
        self.nodes = [{"op": "input", "name": "", "inputs": []}]
        self.output = 0
        self.features = None
        self.stages = []

    # ---- nodes -------------------------------------------------------------
    def input(self):
        """The image: node 0."""
        return 0

    def conv2d(self, x, name, kernel, stride=1, padding=0, dilation=1, groups=1, bias=True, weight=None):
        """Conv2d; its channel counts come from the weight in the file.

        weight: the key of its [O, I/groups, K, K] tensor (default name + ".weight");
        bias: True (name + ".bias"), False/None (no bias) or a key.
        """
        return self._add("conv2d", name, [x], kernel=_whole("kernel", kernel, 1),
                         stride=_whole("stride", stride, 1), padding=_whole("padding", padding, 0),
                         dilation=_whole("dilation", dilation, 1), groups=_whole("groups", groups, 1),
                         weight=weight or name + ".weight", bias=self._bias(name, bias))

    def batchnorm(self, x, name, eps=1e-5):
        """BatchNorm2d in eval mode: name + .weight, .bias, .running_mean, .running_var."""
        return self._add("batchnorm", name, [x], weight=name + ".weight", bias=name + ".bias",
                         running_mean=name + ".running_mean", running_var=name + ".running_var",
                         eps=_float32_shortest(eps))

    def activation(self, x, kind, name=""):
        if kind not in ACTIVATIONS:
            raise GraphError(f"unknown activation '{kind}' (known: {', '.join(ACTIVATIONS)})")
        return self._add("activation", name, [x], kind=kind)

    def maxpool(self, x, kernel, stride=None, padding=0, ceil_mode=False, name=""):
        """MaxPool2d; stride defaults to the kernel, as in PyTorch."""
        return self._add("maxpool", name, [x], **self._pool(kernel, stride, padding, ceil_mode))

    def avgpool(self, x, kernel, stride=None, padding=0, ceil_mode=False, count_include_pad=True, name=""):
        """AvgPool2d; stride defaults to the kernel, as in PyTorch."""
        return self._add("avgpool", name, [x], **self._pool(kernel, stride, padding, ceil_mode),
                         count_include_pad=bool(count_include_pad))

    def global_avgpool(self, x, name="", allmean=False):
        """The mean over H x W; under layer masking vismean, or with allmean
        mean_hw(x * m) (removed positions as zeros: the authors' SqueezeNet
        and DenseNet heads). `allmean` is written only when set."""
        return self._add("global_avgpool", name, [x], **({"allmean": True} if allmean else {}))

    def adaptive_avgpool(self, x, out_size, name=""):
        """AdaptiveAvgPool2d((out_size, out_size))."""
        return self._add("adaptive_avgpool", name, [x], out_size=_whole("out_size", out_size, 1))

    def add(self, a, b, name=""):
        return self._add("add", name, [a, b])

    def concat(self, inputs, name=""):
        """torch.cat(inputs, 1)."""
        if not inputs:
            raise GraphError(f"concat '{name}' has no inputs")
        return self._add("concat", name, list(inputs))

    def channel_scale(self, x, scale, name=""):
        """x [N,C,H,W] * scale [N,C,1,1]: the squeeze-excitation product."""
        return self._add("channel_scale", name, [x, scale])

    def linear(self, x, name, bias=True, weight=None):
        """Linear on [N,C,1,1] (after a global pool or a flatten)."""
        return self._add("linear", name, [x], weight=weight or name + ".weight", bias=self._bias(name, bias))

    def flatten(self, x, name=""):
        return self._add("flatten", name, [x])

    def identity(self, x, name=""):
        """Dropout and stochastic depth in eval mode."""
        return self._add("identity", name, [x])

    def fill_step(self, x, name=""):
        """Clean: x as it is. Layer-masked: one step of the fill, the mask
        grown by one pixel (SqueezeNet's Fire before its expand1x1)."""
        return self._add("fill_step", name, [x])

    # ---- the graph's ends --------------------------------------------------
    def set_output(self, node):
        """The logits."""
        self.output = self._id(node)

    def set_features(self, node):
        """The pooled features (what the classifier reads)."""
        self.features = self._id(node)

    def stage(self, name, node):
        """Marks the end of a top-level stage ("stem", "layer1", ...), in order."""
        self.stages.append([str(name), self._id(node)])

    # ---- output ------------------------------------------------------------
    def weight_names(self):
        """Every state_dict key the description refers to, in node order, once each."""
        names = []
        for node in self.nodes:
            for key in ("weight", "bias", "running_mean", "running_var"):
                if node.get(key) is not None and node[key] not in names:
                    names.append(node[key])
        return names

    def to_json(self):
        """The description, byte for byte as lmask's C++ writer writes it."""
        def dump(value):
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        head = {"format": FORMAT, "version": VERSION, "in_channels": self.in_channels}
        nodes = ",\n".join(dump(n) for n in self.nodes)
        return (dump(head)[:-1] + ',"nodes":[\n' + nodes + '\n],"output":' + dump(self.output) +
                ',"features":' + dump(self.features) + ',"stages":' + dump(self.stages) + "}\n")

    # ---- helpers -----------------------------------------------------------
    def _id(self, node):
        if isinstance(node, bool) or not isinstance(node, (int, np.integer)) or not 0 <= node < len(self.nodes):
            raise GraphError(f"node {node!r} does not exist (the graph has {len(self.nodes)})")
        return int(node)

    def _add(self, op, name, inputs, **params):
        if not isinstance(name, str):
            raise GraphError(f"{op} name {name!r} is not a string")
        node = {"op": op, "name": name, "inputs": [self._id(i) for i in inputs]}
        node.update(params)
        self.nodes.append(node)
        return len(self.nodes) - 1

    @staticmethod
    def _bias(name, bias):
        if bias is True:
            return name + ".bias"
        return bias or None

    @staticmethod
    def _pool(kernel, stride, padding, ceil_mode):
        kernel = _whole("kernel", kernel, 1)
        return {"kernel": kernel, "stride": _whole("stride", kernel if stride is None else stride, 1),
                "padding": _whole("padding", padding, 0), "ceil_mode": bool(ceil_mode)}


def write_graph_attribute(h5file, text):
    """Stores `text` as the root attribute lmask_graph of an open h5py.File.

    As a variable-length string its bytes live in the file's global heap, not
    in the root's object header, so a description far above the 64 KiB of a
    compact attribute (DenseNet's) needs no newer file format.
    """
    if not text:
        raise GraphError("an empty graph description")
    h5file.attrs[ATTRIBUTE] = str(text)  # h5py's default for str: variable-length UTF-8
