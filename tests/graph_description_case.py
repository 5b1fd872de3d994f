#!/usr/bin/python3
"""The graphs of tests/graph_json_cases.h, described with tools/lmask_graph.py.

What it is: the Python half of the graph-description tests
(tests/test_graph_json.cpp): it builds the same graphs as the C++ cases,
node for node and name for name, so the test can check that both writers
write the same description and that lmask reads a file this module wrote.

    graph_description_case.py every-op OUT.json     the description alone
    graph_description_case.py resnet18 OUT.json     torchvision's resnet18, as ResNet::graph() builds it
    graph_description_case.py every-op-h5 OUT.h5    a weight file: seeded tensors + the attribute
"""

import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import lmask_graph  # noqa: E402


class Case:
    """A GraphBuilder that also records each tensor's shape (in the file's layout)."""

    def __init__(self, in_channels):
        self.g = lmask_graph.GraphBuilder(in_channels)
        self.shapes = {}

    def conv(self, x, name, cin, cout, k, s, p, d=1, groups=1, bias=False):
        self.shapes[name + ".weight"] = (cout, cin // groups, k, k)
        if bias:
            self.shapes[name + ".bias"] = (cout,)
        return self.g.conv2d(x, name, kernel=k, stride=s, padding=p, dilation=d, groups=groups, bias=bias)

    def bn(self, x, name, c, eps=1e-5):
        for key in ("weight", "bias", "running_mean", "running_var"):
            self.shapes[f"{name}.{key}"] = (c,)
        return self.g.batchnorm(x, name, eps=eps)

    def linear(self, x, name, cin, cout, bias=True):
        self.shapes[name + ".weight"] = (cout, cin)
        if bias:
            self.shapes[name + ".bias"] = (cout,)
        return self.g.linear(x, name, bias=bias)


def every_op():
    """every_op_graph of graph_json_cases.h."""
    c = Case(3)
    g = c.g
    t = c.conv(g.input(), "stem.conv", 3, 8, 3, 2, 1)
    t = c.bn(t, "stem.bn", 8, eps=np.float32(1e-3))  # a float32 eps is written as 0.001 too
    t = g.activation(t, "hardswish", name="stem.act")
    g.stage("stem", t)
    dw = g.activation(c.conv(t, "block.dw", 8, 8, 3, 1, 2, d=2, groups=8, bias=True), "relu6", name="block.dw_act")
    mp = g.maxpool(dw, 3, stride=1, padding=1, ceil_mode=True, name="block.max")
    ap = g.activation(g.avgpool(dw, 3, stride=1, padding=1, count_include_pad=False, name="block.avg"),
                      "relu", name="block.avg_act")
    total = g.add(mp, ap, name="block.add")
    q = g.global_avgpool(total, name="block.se.pool", allmean=True)
    fc1 = g.activation(c.conv(q, "block.se.fc1", 8, 4, 1, 1, 0, bias=True), "silu", name="block.se.act")
    gate = g.activation(c.linear(fc1, "block.se.fc2", 4, 8), "hardsigmoid", name="block.se.gate")
    se = g.channel_scale(total, gate, name="block.se.scale")
    side = g.activation(c.conv(total, "block.side", 8, 6, 1, 1, 0), "sigmoid", name="block.side_act")
    t = g.concat([se, side, se], name="block.cat")
    g.stage("block", t)
    t = g.identity(t, name="head.dropout")
    t = g.fill_step(t, name="head.fill")
    t = g.avgpool(t, 2, stride=1, ceil_mode=True, name="head.avg")
    t = g.adaptive_avgpool(t, 2, name="head.pool")
    t = g.flatten(t, name="head.flatten")
    g.set_features(t)
    g.set_output(c.linear(t, "head.fc", 22 * 4, 5))
    return c


def resnet18(width=64, classes=1000):
    """torchvision's resnet18 (BasicBlocks 2-2-2-2) in ResNet::graph()'s node order."""
    c = Case(3)
    g = c.g
    t = g.activation(c.bn(c.conv(g.input(), "conv1", 3, width, 7, 2, 3), "bn1", width), "relu", name="relu")
    t = g.maxpool(t, 3, stride=2, padding=1, name="maxpool")
    g.stage("stem", t)
    cin = width
    for stage in range(4):
        planes = width << stage
        for block in range(2):
            p = f"layer{stage + 1}.{block}."
            stride = 2 if stage > 0 and block == 0 else 1
            x = t
            t = g.activation(c.bn(c.conv(x, p + "conv1", cin, planes, 3, stride, 1), p + "bn1", planes),
                             "relu", name=p + "relu")
            identity = x
            if cin != planes:
                identity = c.bn(c.conv(x, p + "downsample.0", cin, planes, 1, stride, 0), p + "downsample.1", planes)
            t = c.bn(c.conv(t, p + "conv2", planes, planes, 3, 1, 1), p + "bn2", planes)
            t = g.activation(g.add(t, identity, name=p + "add"), "relu", name=p + "relu")
            cin = planes
        g.stage(f"layer{stage + 1}", t)
    f = g.global_avgpool(t, name="avgpool")
    g.set_features(f)
    g.set_output(c.linear(f, "fc", cin, classes))
    return c


def write_text(path, text):
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)


def write_h5(path, case, seed=7):
    """Seeded tensors under their names, and the description as the attribute."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        for name in case.g.weight_names():
            shape = case.shapes[name]
            low = 0.5 if name.endswith("running_var") else -0.5
            f.create_dataset(name, data=rng.uniform(low, low + 1.0, size=shape).astype(np.float32))
        f.attrs["arch"] = "described"
        f.attrs["num_classes"] = np.int64(5)
        f.attrs["input_size"] = np.int64(16)
        f.attrs["resize_size"] = np.int64(16)
        lmask_graph.write_graph_attribute(f, case.g.to_json())


def main(argv):
    if len(argv) != 3 or argv[1] not in ("every-op", "resnet18", "every-op-h5"):
        sys.exit("usage: graph_description_case.py every-op|resnet18|every-op-h5 OUT")
    mode, out = argv[1], argv[2]
    if mode == "every-op":
        write_text(out, every_op().g.to_json())
    elif mode == "resnet18":
        write_text(out, resnet18().g.to_json())
    else:
        write_h5(out, every_op())


if __name__ == "__main__":
    main(sys.argv)
