#!/usr/bin/python3
"""Reading an ONNX model for convert_onnx.py: the file, attributes, constants.

What it is: the parts of the ONNX converter that only read -- the model file
(a regular file, one protobuf, no external data), a node's attributes checked
for their type and for names the converter does not know, the model's
constants (initializers and Constant nodes) as numpy arrays, and the text of
messages made safe to print on one line.

What it is not: the mapping onto lmask's graph (onnx_mapping.py) or the
command line (convert_onnx.py).

Uses Debian's python3-onnx and python3-numpy (through /usr/bin/python3).
"""

import os
import warnings

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, numpy_helper

# Far above any CNN's ONNX file; a larger one is not a model to read whole.
MAX_MODEL_BYTES = 2 << 30  # protobuf's own limit for one message

# Element types as messages name them (TensorProto.DataType).
ELEMENT_TYPES = {value: name.lower() for name, value in TensorProto.DataType.items()}
FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE)


class Refusal(Exception):
    """What lmask's graph cannot hold; the mapper adds which node it is."""


def shown(text, limit=80):
    """`text` as a message prints it: control characters escaped, so a name
    from the file can never break the one-line message, and names from the
    file cut at `limit` characters (None for a path, which is never cut)."""
    text = str(text)
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return out if limit is None or len(out) <= limit else out[:limit] + "..."


def read_model(path):
    """The ModelProto of `path`; Refusal for anything that is not one ONNX file."""
    if not os.path.exists(path):
        raise Refusal("no such file")
    if not os.path.isfile(path):
        # A FIFO would block and a device never end: regular files only.
        raise Refusal("not a regular file")
    if os.path.getsize(path) > MAX_MODEL_BYTES:
        raise Refusal(f"larger than {MAX_MODEL_BYTES >> 30} GiB, protobuf's limit for one model")
    try:
        # External data is refused below rather than followed: its paths come
        # from the file, and a model file must not make the converter read others.
        # protobuf warns about some damage instead of raising: kept here and
        # refused, so that the message is the one line, not a warning's two more.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = onnx.load(path, load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError and its relatives all mean "not ONNX"
        raise Refusal(f"not an ONNX model ({shown(_first_line(exc))})")
    if caught:
        raise Refusal(f"not an ONNX model ({shown(_first_line(caught[0].message))})")
    if not model.HasField("graph"):
        raise Refusal("not an ONNX model (no graph)")
    _check_names(model.graph)
    return model


def _check_names(graph):
    """protobuf hands a string field that is not UTF-8 over as bytes; the
    names are refused here, once, rather than failing wherever they are read."""
    def texts(node):
        yield node.name
        yield node.op_type
        yield node.domain
        yield from node.input
        yield from node.output
        yield from (a.name for a in node.attribute)
    named = [(f"node {i}", texts(n)) for i, n in enumerate(graph.node)]
    named += [("an initializer", [t.name]) for t in graph.initializer]
    named += [("a graph input or output", [v.name]) for v in list(graph.input) + list(graph.output)]
    for where, values in named:
        if any(not isinstance(v, str) for v in values):
            raise Refusal(f"{where} has a name that is not UTF-8 text")


def _first_line(what):
    text = str(what)
    return text.splitlines()[0] if text else type(what).__name__


def default_opset(model):
    """The version of the default ("" / "ai.onnx") operator set the model uses."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise Refusal("imports no version of the default ONNX operator set")


def tensor_array(tensor, what):
    """A TensorProto's values as a numpy array (external data refused)."""
    if tensor.data_location == TensorProto.EXTERNAL:
        raise Refusal(f"{what} keeps its values in an external file; convert a single-file model "
                      "(onnx.save without save_as_external_data)")
    try:
        return numpy_helper.to_array(tensor)
    except Exception as exc:  # a tensor whose byte count does not fit its shape, an unknown type
        raise Refusal(f"{what} cannot be read ({shown(exc)})")


def float32_weights(array, what):
    """A float tensor as float32 (lmask's weights); integers and NaN/Inf refused."""
    if array.dtype.kind != "f":
        raise Refusal(f"{what} is {array.dtype}; lmask's weights are float32")
    out = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(out).all():
        raise Refusal(f"{what} holds NaN or Inf (or a value beyond float32)")
    return out


class NodeAttributes:
    """A node's attributes by name, each read with its expected type.

    Every attribute the node has must be one the op's handler reads (`known`):
    one the converter does not look at would change the op's meaning silently.
    """

    _KINDS = {"int": AttributeProto.INT, "ints": AttributeProto.INTS, "float": AttributeProto.FLOAT,
              "floats": AttributeProto.FLOATS, "string": AttributeProto.STRING, "tensor": AttributeProto.TENSOR}

    def __init__(self, node, known):
        self._by_name = {}
        for attr in node.attribute:
            if attr.name not in known:
                raise Refusal(f"attribute '{shown(attr.name)}' is not one lmask maps")
            self._by_name[attr.name] = attr

    def has(self, name):
        return name in self._by_name

    def _get(self, name, kind, default):
        attr = self._by_name.get(name)
        if attr is None:
            return default
        if attr.type != self._KINDS[kind]:
            raise Refusal(f"attribute '{name}' is not of type {kind}")
        if kind == "int":
            return int(attr.i)
        if kind == "ints":
            return [int(v) for v in attr.ints]
        if kind == "float":
            return float(attr.f)
        if kind == "floats":
            return [float(v) for v in attr.floats]
        if kind == "string":
            return attr.s.decode("utf-8", "replace")
        return attr.t

    def int(self, name, default=None):
        return self._get(name, "int", default)

    def ints(self, name, default=None):
        return self._get(name, "ints", default)

    def float(self, name, default=None):
        return self._get(name, "float", default)

    def floats(self, name, default=None):
        return self._get(name, "floats", default)

    def string(self, name, default=None):
        return self._get(name, "string", default)

    def tensor(self, name, default=None):
        return self._get(name, "tensor", default)


def constant_node_value(node):
    """The value of a Constant node (opset 1..17: value, value_float(s), value_int(s))."""
    attrs = NodeAttributes(node, {"value", "value_float", "value_floats", "value_int", "value_ints",
                                  "sparse_value", "value_string", "value_strings"})
    if attrs.has("value"):
        return tensor_array(attrs.tensor("value"), "its value")
    if attrs.has("value_float"):
        return np.float32(attrs.float("value_float"))
    if attrs.has("value_floats"):
        return np.asarray(attrs.floats("value_floats"), dtype=np.float32)
    if attrs.has("value_int"):
        return np.int64(attrs.int("value_int"))
    if attrs.has("value_ints"):
        return np.asarray(attrs.ints("value_ints"), dtype=np.int64)
    raise Refusal("holds a sparse or string constant, which lmask's graph has no use for")


def value_shape(value_info):
    """The shape of a graph input or output: a tuple of ints, None where a dim is
    symbolic (dim_param) or unknown; Refusal when it is not a tensor."""
    kind = value_info.type.WhichOneof("value")
    if kind != "tensor_type":
        raise Refusal(f"'{shown(value_info.name)}' is a {kind or 'value of no type'}, not a tensor")
    tensor_type = value_info.type.tensor_type
    if not tensor_type.HasField("shape"):
        raise Refusal(f"'{shown(value_info.name)}' has no shape")
    return tuple(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else None
                 for d in tensor_type.shape.dim)


def element_type(value_info):
    return value_info.type.tensor_type.elem_type


def type_name(elem_type):
    return ELEMENT_TYPES.get(elem_type, f"type {elem_type}")
