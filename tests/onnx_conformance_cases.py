#!/usr/bin/python3
"""ONNX's own operator test cases through tools/convert_onnx.py, for tests/test_onnx.cpp.

What it is: the Python half of the ONNX conformance test. It finds every case
of Debian's libonnx-testdata (ROOT/node, pytorch-converted, pytorch-operator,
simple: model.onnx + test_data_set_0/input_*.pb, output_0.pb) whose nodes are
all ops lmask maps (OPS), converts each with convert_onnx.py's main, and
writes what the C++ side needs:

    OUT/manifest.tsv        one line per case: "converted<TAB>ID<TAB>MODEL.h5<TAB>IO.h5"
                            or "refused<TAB>ID<TAB>the converter's one line"
                            or "broken<TAB>ID<TAB>why" (a refusal that was not one
                            line, left an output behind, or a conversion that failed
                            without saying why)
    OUT/<group>.<case>.h5     the converted model
    OUT/<group>.<case>.io.h5  "input" and "expected" (float32, ONNX's shapes)

A case whose model has several graph inputs gets all but the first baked in
as initializers from its test data (a node test passes Conv's weight as an
input): lmask's graph has one input, the image, and its weights are constants.

    onnx_conformance_cases.py ROOT OUT
"""

import contextlib
import io
import os
import sys

import h5py
import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import convert_onnx  # noqa: E402

GROUPS = ("node", "pytorch-converted", "pytorch-operator", "simple")
OPS = {"Conv", "BatchNormalization", "Relu", "HardSigmoid", "HardSwish", "Sigmoid", "MaxPool", "AveragePool",
       "GlobalAveragePool", "Concat", "Add", "Mul", "Gemm", "Flatten"}


def read_tensor(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def cases(root):
    """(id, case directory) of every case whose ops lmask maps, sorted."""
    for group in GROUPS:
        folder = os.path.join(root, group)
        if not os.path.isdir(folder):
            continue
        for case in sorted(os.listdir(folder)):
            directory = os.path.join(folder, case)
            if not os.path.isfile(os.path.join(directory, "model.onnx")):
                continue
            ops = {n.op_type for n in onnx.load(os.path.join(directory, "model.onnx")).graph.node}
            if ops and ops <= OPS:
                yield f"{group}/{case}", directory


def baked(model, inputs):
    """The model with every graph input but the first an initializer holding its test value."""
    initialized = {t.name for t in model.graph.initializer}
    names = [v.name for v in model.graph.input if v.name not in initialized]
    for name, value in zip(names[1:], inputs[1:]):
        model.graph.initializer.append(numpy_helper.from_array(value, name))
    return model


def convert(model_path, out):
    """(exit status, stdout, stderr) of convert_onnx.py's main, run here."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = convert_onnx.main([model_path, "--out", out])
        except SystemExit as exc:  # argparse's exits; none expected here
            status = exc.code
    return status, stdout.getvalue(), stderr.getvalue()


def one_case(case_id, directory, out_dir):
    """The manifest line of one case."""
    stem = case_id.replace("/", ".")
    data = os.path.join(directory, "test_data_set_0")
    inputs = [read_tensor(os.path.join(data, f"input_{i}.pb"))
              for i in range(len([f for f in os.listdir(data) if f.startswith("input_")]))]
    model_path = os.path.join(out_dir, stem + ".onnx")
    onnx.save(baked(onnx.load(os.path.join(directory, "model.onnx")), inputs), model_path)
    h5 = os.path.join(out_dir, stem + ".h5")
    status, _, err = convert(model_path, h5)
    if status != 0:
        if err.count("\n") != 1 or not err.endswith("\n") or "Traceback" in err:
            return f"broken\t{case_id}\trefused in more than one line: {err!r}"
        if os.path.exists(h5) or any(f.startswith("." + stem + ".h5.tmp-") for f in os.listdir(out_dir)):
            return f"broken\t{case_id}\trefused but left an output behind"
        return f"refused\t{case_id}\t{err.strip()}"
    expected = read_tensor(os.path.join(data, "output_0.pb"))
    io_h5 = os.path.join(out_dir, stem + ".io.h5")
    with h5py.File(io_h5, "w") as f:
        f.create_dataset("input", data=np.asarray(inputs[0], dtype=np.float32))
        f.create_dataset("expected", data=np.asarray(expected, dtype=np.float32))
    return f"converted\t{case_id}\t{h5}\t{io_h5}"


def main(argv):
    if len(argv) != 3:
        print("usage: onnx_conformance_cases.py ROOT OUT", file=sys.stderr)
        return 2
    root, out_dir = argv[1], argv[2]
    os.makedirs(out_dir, exist_ok=True)
    lines = [one_case(case_id, directory, out_dir) for case_id, directory in cases(root)]
    with open(os.path.join(out_dir, "manifest.tsv"), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
