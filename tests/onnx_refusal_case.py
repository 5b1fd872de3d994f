#!/usr/bin/python3
"""Small ONNX files tools/convert_onnx.py must refuse, for tests/test_onnx.cpp.

What it is: the inputs of the converter's bad-input test, written with
onnx.helper so that each refusal is known in advance:

    OUT/resize.onnx    image -> Conv 'conv' -> Resize 'Resize_3': node 1, an op lmask lacks
    OUT/escaped.onnx   image -> Softmax named "bad<LF>name<ESC>": the message must stay one line
    OUT/garbage.onnx   bytes that are no protobuf of a model

    onnx_refusal_case.py OUT
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def image_model(nodes, initializers, out_shape, name):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, out_shape)], initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def main(argv):
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), dtype=np.float32), "conv.weight")
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
    resize = image_model([helper.make_node("Conv", ["image", "conv.weight"], ["c"], name="conv",
                                           kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                          helper.make_node("Resize", ["c", "", "scales"], ["out"], name="Resize_3")],
                         [weight, scales], [1, 4, 16, 16], "resize")
    onnx.save(resize, os.path.join(out, "resize.onnx"))
    escaped = image_model([helper.make_node("Softmax", ["image"], ["out"], name="bad\nname\x1b")],
                          [], [1, 3, 8, 8], "escaped")
    onnx.save(escaped, os.path.join(out, "escaped.onnx"))
    with open(os.path.join(out, "garbage.onnx"), "wb") as f:
        f.write(bytes(range(256)) * 4)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
