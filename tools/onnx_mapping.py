#!/usr/bin/python3
"""An ONNX graph as lmask's graph: the op-by-op mapping behind convert_onnx.py.

What it is: a walk over an ONNX model's nodes, in the file's (topological)
order, that gives each node lmask's op for it (docs/graph_format.md) or
refuses it, naming the first thing lmask's graph cannot hold. Each ONNX
tensor becomes either a value lmask computes (a node of the graph, with its
ONNX shape) or a constant (an initializer or a Constant node's output),
which lmask can only hold as a weight of the node that reads it.

Shapes: lmask's values are images [N,C,H,W]; an ONNX tensor [N,F] (what
Flatten and Gemm make) is lmask's [N,F,1,1]; any other rank is refused.
The batch N may be symbolic; H and W are the model input's (or
--input-size where they are symbolic), so that padding, pooling sizes and
reshapes are decided at that size.

Fusions (each the only way lmask's graph holds the ONNX pattern):
x * Sigmoid(x) is silu, x * HardSigmoid(x) (PyTorch's constants) hardswish,
[N,C,H,W] * [N,C,1,1] channel_scale, MatMul with a constant [K,M] linear,
and a constant added to a conv or linear that nothing else reads its bias.
Gemm's alpha, beta and transB are folded into its constant weight and bias.

What it is not: a general ONNX runtime or constant folder (only Constant and
Identity of constants are folded), and not a writer (convert_onnx.py).
"""

from collections import Counter

import numpy as np
from onnx import TensorProto

import lmask_graph
from onnx_reading import (Refusal, NodeAttributes, constant_node_value, default_opset, element_type,
                          float32_weights, shown, tensor_array, type_name, value_shape)
from onnx_windows import conv_out_size, conv_window, lmask_pool_out_size, pool_window

# HardSigmoid's constants in PyTorch's hardsigmoid, relu6(x + 3) / 6: lmask's.
TORCH_HARDSIGMOID = (1.0 / 6.0, 0.5)
FLOAT32_MAX = float(np.finfo(np.float32).max)


class MappingError(Exception):
    """A refusal with where it happened: one line, without the file's name."""


class Value:
    """A tensor lmask computes: its node in the graph being built, its ONNX shape."""

    def __init__(self, node, shape):
        self.node = node
        self.shape = tuple(shape)

    @property
    def rank(self):
        return len(self.shape)


def _dims(shape):
    """[N,3,224,224]: a symbolic batch is N, another symbolic side '?'."""
    return "[" + ",".join(("N" if i == 0 else "?") if d is None else str(d) for i, d in enumerate(shape)) + "]"


def _name_for_keys(text, op_type=""):
    """A node name usable as the prefix of HDF5 dataset names.

    PyTorch's exporter names nodes by module scope, each part the module's
    full dotted path ("/features/features.1/block/block.0/Conv"): a part
    that the next one extends is left out and so is the op type at the end,
    which gives the module's state_dict prefix ("features.1.block.0"). '/'
    would make HDF5 groups, so the parts join with dots; other characters
    outside [A-Za-z0-9_.:-] become '_'.
    """
    parts = [p for p in text.split("/") if p]
    if len(parts) > 1 and parts[-1] == op_type:
        parts.pop()
    kept = [p for i, p in enumerate(parts) if i + 1 == len(parts) or not parts[i + 1].startswith(p + ".")]
    out = "".join(c if c.isalnum() or c in "_.:-" else "_" for c in ".".join(kept))
    return out.strip("._")


class Mapper:
    """One model's mapping; map() returns the graph and its tensors."""

    def __init__(self, model, input_size=None):
        self.graph = model.graph
        self.opset = default_opset(model)
        self.input_size = input_size
        self.consts = {}   # ONNX name -> numpy array
        self.values = {}   # ONNX name -> Value
        self.nodes = []    # the graph being built: dicts of op, inputs, name, params, tensors
        self.uses = Counter()
        self.used_names = set()
        self.node = None   # the ONNX node being mapped, for names
        self.index = -1

    # ---- the walk ------------------------------------------------------------
    def map(self):
        for tensor in self.graph.initializer:
            self.consts[tensor.name] = tensor_array(tensor, f"initializer '{shown(tensor.name)}'")
        image = self._graph_input()
        outputs = list(self.graph.output)
        if len(outputs) != 1:
            raise MappingError(f"has {len(outputs)} graph outputs; lmask's graph has one, the logits")
        needed = self._needed_nodes(outputs[0].name)
        for index, node in enumerate(self.graph.node):
            if index not in needed:
                continue
            self.node, self.index = node, index
            try:
                self._map_node(node)
            except Refusal as exc:
                name = f" '{shown(node.name)}'" if node.name else ""
                raise MappingError(f"node {index}{name} ({shown(node.op_type)}): {exc}")
        out = self.values.get(outputs[0].name)
        if out is None:
            raise MappingError(f"the graph output '{shown(outputs[0].name)}' is a constant or is never computed")
        if out.node == 0:
            raise MappingError("the graph output is the input itself; there is nothing to convert")
        return self._build(image, out)

    def _graph_input(self):
        inputs = [v for v in self.graph.input if v.name not in self.consts]
        if len(inputs) != 1:
            names = ", ".join(f"'{shown(v.name)}'" for v in inputs[:4])
            raise MappingError(f"has {len(inputs)} graph inputs{' (' + names + ')' if names else ''}; "
                               "lmask's graph has one, the image")
        v = inputs[0]
        try:
            shape = value_shape(v)
        except Refusal as exc:
            raise MappingError(f"input {exc}")
        if element_type(v) != TensorProto.FLOAT:
            raise MappingError(f"input '{shown(v.name)}' is {type_name(element_type(v))}; lmask computes in float32")
        if len(shape) == 4 and shape[1] is not None:
            if None in shape[2:] and self.input_size is None:
                raise MappingError(f"input '{shown(v.name)}' {_dims(shape)} has a symbolic height or width; "
                                   "give --input-size")
            side = self.input_size
            shape = (shape[0], shape[1], shape[2] or side, shape[3] or side)
        elif not (len(shape) == 2 and shape[1] is not None):
            raise MappingError(f"input '{shown(v.name)}' is {_dims(shape)}; lmask's input is an image "
                               "[N,C,H,W] (or features [N,F]) with C (F) fixed")
        self.nodes.append({"op": "input", "inputs": [], "name": "", "params": {}, "tensors": {}})
        self.values[v.name] = Value(0, shape)
        return self.values[v.name]

    def _needed_nodes(self, output):
        """The nodes the output depends on; the others are never mapped."""
        producer = {}
        for index, node in enumerate(self.graph.node):
            for name in node.output:
                if name:
                    producer.setdefault(name, index)
        needed, todo = set(), [output]
        while todo:
            index = producer.get(todo.pop())
            if index is None or index in needed:
                continue
            needed.add(index)
            todo.extend(n for n in self.graph.node[index].input if n)
        for index in needed:
            self.uses.update(n for n in self.graph.node[index].input if n)
        self.uses[output] += 1
        return needed

    def _map_node(self, node):
        if node.domain not in ("", "ai.onnx"):
            raise Refusal(f"lmask has no {node.domain}::{node.op_type}")
        handler = getattr(self, "_op_" + node.op_type, None)
        if handler is None:
            raise Refusal(f"lmask has no {node.op_type}")
        for name in node.input:
            if name and name not in self.values and name not in self.consts:
                raise Refusal(f"reads '{shown(name)}', which no earlier node or initializer defines")
        result = handler(node)
        if not node.output or not node.output[0]:
            raise Refusal("has no output")
        for name in node.output[1:]:
            if name and self.uses[name]:
                raise Refusal(f"its output '{shown(name)}' is read; lmask computes only the op's first output")
        if isinstance(result, Value):
            self.values[node.output[0]] = result
        else:
            self.consts[node.output[0]] = result

    # ---- reading a node's inputs ---------------------------------------------
    def _has_input(self, node, i):
        return i < len(node.input) and node.input[i] != ""

    def _computed(self, node, i, ranks=(4, 2)):
        name = node.input[i] if i < len(node.input) else ""
        if name not in self.values:
            raise Refusal(f"input {i} '{shown(name)}' is a constant (or absent); lmask's {node.op_type} reads a "
                          "computed value")
        v = self.values[name]
        if v.rank not in ranks:
            want = " or ".join({4: "[N,C,H,W]", 2: "[N,F]"}[r] for r in ranks)
            raise Refusal(f"input {i} is {_dims(v.shape)}; lmask's {node.op_type} takes {want}")
        return v

    def _const(self, node, i, what):
        if not self._has_input(node, i):
            raise Refusal(f"has no {what} (input {i})")
        name = node.input[i]
        if name not in self.consts:
            raise Refusal(f"its {what} '{shown(name)}' is computed, not a constant; lmask's weights are fixed")
        return self.consts[name]

    def _weight(self, node, i, what, shape=None):
        w = float32_weights(self._const(node, i, what), f"its {what} '{shown(node.input[i])}'")
        if shape is not None and w.shape != tuple(shape):
            raise Refusal(f"its {what} is {list(w.shape)}; expected {list(shape)}")
        return w

    # ---- building nodes ------------------------------------------------------
    def _name(self, weight_input=None):
        """The node's name: the weight's torch-style prefix ("layer1.0.conv1" of
        "layer1.0.conv1.weight") when it has one, else its ONNX name, else
        op_index; made unique, since its tensors are stored under it."""
        node = self.node
        base = ""
        if weight_input is not None and weight_input < len(node.input):
            weight = node.input[weight_input]
            if weight.endswith(".weight"):
                base = _name_for_keys(weight[: -len(".weight")])
        base = base or _name_for_keys(node.name, node.op_type) or f"{_name_for_keys(node.op_type) or 'node'}_{self.index}"
        name, k = base, 2
        while name in self.used_names:
            name, k = f"{base}_{k}", k + 1
        self.used_names.add(name)
        return name

    def _emit(self, op, inputs, shape, name=None, params=None, tensors=None):
        self.nodes.append({"op": op, "inputs": [v.node for v in inputs],
                           "name": name if name is not None else _name_for_keys(self.node.name, self.node.op_type),
                           "params": params or {}, "tensors": tensors or {}})
        return Value(len(self.nodes) - 1, shape)

    def _activation(self, node, kind):
        NodeAttributes(node, set())
        x = self._computed(node, 0)
        return self._emit("activation", [x], x.shape, params={"kind": kind})

    # ---- ops -----------------------------------------------------------------
    def _op_Conv(self, node):
        attrs = NodeAttributes(node, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"})
        x = self._computed(node, 0, ranks=(4,))
        w = self._weight(node, 1, "weight")
        if w.ndim != 4:
            raise Refusal(f"its weight is {list(w.shape)}, not [O, I/groups, kH, kW]: lmask convolves in 2-D")
        n, c, h, wd = x.shape
        kernel, stride, padding, dilation, groups = conv_window(attrs, w.shape, (h, wd))
        out = w.shape[0]
        if groups < 1 or w.shape[1] * groups != c or out % groups:
            raise Refusal(f"its weight {list(w.shape)} with group {groups} does not fit an input of {c} channels")
        tensors = {"weight": w}
        if self._has_input(node, 2):
            tensors["bias"] = self._weight(node, 2, "bias", (out,))
        oh, ow = (conv_out_size(s, kernel, stride, padding, dilation) for s in (h, wd))
        if oh < 1 or ow < 1:
            raise Refusal(f"its window is larger than the padded input {_dims(x.shape)}")
        params = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return self._emit("conv2d", [x], (n, out, oh, ow), self._name(1), params, tensors)

    def _op_BatchNormalization(self, node):
        attrs = NodeAttributes(node, {"epsilon", "momentum", "training_mode", "spatial", "is_test",
                                      "consumed_inputs"})
        if attrs.int("training_mode", 0):
            raise Refusal("training_mode 1: lmask runs BatchNorm with its running statistics only")
        if attrs.int("spatial", 1) != 1:
            raise Refusal("spatial 0 (statistics per position): lmask's BatchNorm has one per channel")
        x = self._computed(node, 0)
        c = x.shape[1]
        keys = ("weight", "bias", "running_mean", "running_var")
        tensors = {k: self._weight(node, i + 1, what, (c,))
                   for i, (k, what) in enumerate(zip(keys, ("scale", "bias", "mean", "variance")))}
        if (tensors["running_var"] < 0).any():
            raise Refusal("its variance has a negative value")
        eps = attrs.float("epsilon", 1e-5)
        if not eps > 0:
            raise Refusal(f"epsilon {eps} is not positive")
        return self._emit("batchnorm", [x], x.shape, self._name(1), {"eps": eps}, tensors)

    def _op_Relu(self, node):
        return self._activation(node, "relu")

    def _op_Sigmoid(self, node):
        return self._activation(node, "sigmoid")

    def _op_HardSwish(self, node):
        return self._activation(node, "hardswish")

    def _op_HardSigmoid(self, node):
        attrs = NodeAttributes(node, {"alpha", "beta"})
        alpha, beta = attrs.float("alpha", 0.2), attrs.float("beta", 0.5)
        # ONNX stores alpha as a float32: 1/6 arrives as 0.16666667163.
        if abs(alpha - TORCH_HARDSIGMOID[0]) > 1e-7 or beta != TORCH_HARDSIGMOID[1]:
            raise Refusal(f"alpha {alpha:g}, beta {beta:g}: lmask's hardsigmoid is PyTorch's "
                          "(alpha 1/6, beta 0.5)")
        x = self._computed(node, 0)
        return self._emit("activation", [x], x.shape, params={"kind": "hardsigmoid"})

    def _op_Clip(self, node):
        # Before opset 11 the bounds are attributes, from 11 on inputs.
        attrs = NodeAttributes(node, {"min", "max"} if self.opset < 11 else set())
        if self.opset < 11:
            lo, hi = attrs.float("min", -FLOAT32_MAX), attrs.float("max", FLOAT32_MAX)
        else:
            def bound(i, default):
                if not self._has_input(node, i):
                    return default
                value = np.asarray(self._const(node, i, "min" if i == 1 else "max"))
                if value.size != 1:
                    raise Refusal(f"its {'min' if i == 1 else 'max'} is not one number")
                return float(value.reshape(-1)[0])
            lo, hi = bound(1, -FLOAT32_MAX), bound(2, FLOAT32_MAX)
        if lo == 0 and hi == 6:
            kind = "relu6"
        elif lo == 0 and hi >= FLOAT32_MAX:
            kind = "relu"
        else:
            raise Refusal(f"clips to [{lo:g}, {hi:g}]; lmask has Clip only as relu [0, inf) and relu6 [0, 6]")
        x = self._computed(node, 0)
        return self._emit("activation", [x], x.shape, params={"kind": kind})

    def _op_MaxPool(self, node):
        return self._pool(node, average=False)

    def _op_AveragePool(self, node):
        return self._pool(node, average=True)

    def _pool(self, node, average):
        known = {"auto_pad", "ceil_mode", "kernel_shape", "pads", "strides"}
        known |= {"count_include_pad"} if average else {"dilations", "storage_order"}
        attrs = NodeAttributes(node, known)
        x = self._computed(node, 0, ranks=(4,))
        n, c, h, w = x.shape
        kernel, stride, padding, ceil_mode = pool_window(attrs, (h, w), average)
        params = {"kernel": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}
        if average:
            params["count_include_pad"] = bool(attrs.int("count_include_pad", 0))
        shape = (n, c) + tuple(lmask_pool_out_size(s, kernel, stride, padding, ceil_mode) for s in (h, w))
        return self._emit("avgpool" if average else "maxpool", [x], shape, params=params)

    def _op_GlobalAveragePool(self, node):
        NodeAttributes(node, set())
        x = self._computed(node, 0, ranks=(4,))
        return self._emit("global_avgpool", [x], x.shape[:2] + (1, 1))

    def _op_ReduceMean(self, node):
        """x.mean((2, 3)) is the global average pool; [N,C] with keepdims 0,
        which is lmask's [N,C,1,1] all the same."""
        attrs = NodeAttributes(node, {"axes", "keepdims"})  # axes an attribute until opset 18
        x = self._computed(node, 0, ranks=(4,))
        axes = sorted(a + 4 if a < 0 else a for a in attrs.ints("axes", [0, 1, 2, 3]))
        if axes != [2, 3]:
            raise Refusal(f"averages over axes {attrs.ints('axes', 'all')} of {_dims(x.shape)}; lmask averages "
                          "over height and width (axes 2, 3) only")
        shape = x.shape[:2] + ((1, 1) if attrs.int("keepdims", 1) else ())
        return self._emit("global_avgpool", [x], shape)

    def _op_Add(self, node):
        NodeAttributes(node, set())
        if len(node.input) != 2:
            raise Refusal(f"adds {len(node.input)} inputs; expected 2")
        a, b = (self.values.get(name) for name in node.input)
        if a is not None and b is not None:
            if a.shape != b.shape:
                raise Refusal(f"adds {_dims(a.shape)} and {_dims(b.shape)}; lmask adds only equal shapes "
                              "(no broadcasting)")
            return self._emit("add", [a, b], a.shape)
        if a is None and b is None:
            raise Refusal("adds two constants; lmask folds only Constant and Identity")
        computed, k = (a, 0) if a is not None else (b, 1)
        return self._fold_bias(computed, node.input[k], node.input[1 - k])

    def _fold_bias(self, v, name, const_name):
        """conv(x) + c or linear(x) + c, nothing else reading conv(x): c is its bias."""
        producer = self.nodes[v.node]
        if producer["op"] not in ("conv2d", "linear") or self.uses[name] != 1:
            raise Refusal("adds a constant; lmask adds only computed values (a constant is kept only as the "
                          "bias of a Conv, Gemm or MatMul that nothing else reads)")
        c = float32_weights(self.consts[const_name], f"its constant '{shown(const_name)}'")
        channels = v.shape[1]
        per_channel = [(channels,), (1, channels)] if v.rank == 2 else [(channels, 1, 1), (1, channels, 1, 1)]
        if c.size == 1:
            c = np.full(channels, c.reshape(-1)[0], dtype=np.float32)
        elif c.shape in per_channel:
            c = c.reshape(channels)
        else:
            raise Refusal(f"adds a constant {list(c.shape)} to {_dims(v.shape)}; lmask keeps only one value per "
                          "channel, as a bias")
        old = producer["tensors"].get("bias")
        producer["tensors"]["bias"] = c if old is None else (old + c).astype(np.float32)
        return v

    def _op_Mul(self, node):
        NodeAttributes(node, set())
        if len(node.input) != 2:
            raise Refusal(f"multiplies {len(node.input)} inputs; expected 2")
        a, b = (self.values.get(name) for name in node.input)
        if a is None or b is None:
            raise Refusal("multiplies by a constant; lmask multiplies only computed values "
                          "(x * sigmoid(x), x * hardsigmoid(x), [N,C,H,W] * [N,C,1,1])")
        for x, gate in ((a, b), (b, a)):  # x * act(x): an activation of x itself
            producer = self.nodes[gate.node]
            if producer["op"] == "activation" and producer["inputs"] == [x.node]:
                fused = {"sigmoid": "silu", "hardsigmoid": "hardswish"}.get(producer["params"]["kind"])
                if fused:
                    return self._emit("activation", [x], x.shape, params={"kind": fused})
        for x, s in ((a, b), (b, a)):
            if x.rank == 4 and s.shape == x.shape[:2] + (1, 1):
                return self._emit("channel_scale", [x, s], x.shape)
            if x.rank == 2 and s.shape == x.shape:  # [N,F] is lmask's [N,F,1,1]
                return self._emit("channel_scale", [x, s], x.shape)
        raise Refusal(f"multiplies {_dims(a.shape)} by {_dims(b.shape)}; lmask multiplies only [N,C,H,W] by "
                      "[N,C,1,1] (channel_scale) and x by sigmoid(x) or hardsigmoid(x)")

    def _op_Concat(self, node):
        attrs = NodeAttributes(node, {"axis"})
        if not node.input:
            raise Refusal("concatenates nothing")
        parts = [self._computed(node, i) for i in range(len(node.input))]
        rank = parts[0].rank
        axis = attrs.int("axis", 1)
        if axis < 0:
            axis += rank
        if axis != 1:
            raise Refusal(f"axis {attrs.int('axis', 1)} of {_dims(parts[0].shape)}; lmask concatenates channels "
                          "(axis 1) only")
        for p in parts:
            if p.rank != rank or p.shape[:1] + p.shape[2:] != parts[0].shape[:1] + parts[0].shape[2:]:
                raise Refusal(f"concatenates {_dims(parts[0].shape)} and {_dims(p.shape)}, which differ beyond "
                              "their channels")
        shape = (parts[0].shape[0], sum(p.shape[1] for p in parts)) + parts[0].shape[2:]
        return self._emit("concat", parts, shape)

    def _op_Gemm(self, node):
        attrs = NodeAttributes(node, {"alpha", "beta", "transA", "transB", "broadcast"})
        if attrs.int("transA", 0):
            raise Refusal("transA 1: lmask's linear reads its input as [N, features]")
        x = self._computed(node, 0, ranks=(2,))
        b = self._weight(node, 1, "B")
        if b.ndim != 2:
            raise Refusal(f"its B is {list(b.shape)}, not a matrix")
        w = b if attrs.int("transB", 0) else b.T
        if w.shape[1] != x.shape[1]:
            raise Refusal(f"its weight {list(w.shape)} does not fit the input {_dims(x.shape)}")
        alpha, beta = attrs.float("alpha", 1.0), attrs.float("beta", 1.0)
        tensors = {"weight": np.ascontiguousarray(w * np.float32(alpha) if alpha != 1 else w, dtype=np.float32)}
        out = w.shape[0]
        if self._has_input(node, 2):
            c = self._weight(node, 2, "C")
            if c.size == 1:
                c = np.full(out, c.reshape(-1)[0], dtype=np.float32)
            elif c.shape in ((out,), (1, out)):
                c = c.reshape(out)
            else:
                raise Refusal(f"its C is {list(c.shape)}; lmask's bias is one value per output ([{out}] or "
                              f"[1,{out}]), not one per row")
            tensors["bias"] = np.ascontiguousarray(c * np.float32(beta) if beta != 1 else c, dtype=np.float32)
        return self._emit("linear", [x], (x.shape[0], out), self._name(1), tensors=tensors)

    def _op_MatMul(self, node):
        NodeAttributes(node, set())
        x = self._computed(node, 0, ranks=(2,))
        b = self._weight(node, 1, "B")
        if b.ndim != 2 or b.shape[0] != x.shape[1]:
            raise Refusal(f"multiplies {_dims(x.shape)} by {list(b.shape)}; lmask's linear takes [N,K] by [K,M]")
        return self._emit("linear", [x], (x.shape[0], b.shape[1]), self._name(1),
                          tensors={"weight": np.ascontiguousarray(b.T)})

    def _op_Flatten(self, node):
        attrs = NodeAttributes(node, {"axis"})
        x = self._computed(node, 0)
        axis = attrs.int("axis", 1)
        if axis < 0:
            axis += x.rank
        if axis != 1:
            what = "merges the batch into one row" if axis == 0 else "keeps more than the batch apart"
            raise Refusal(f"axis {attrs.int('axis', 1)} of {_dims(x.shape)} {what}; lmask flattens at axis 1")
        if x.rank == 2:
            return self._emit("identity", [x], x.shape)
        return self._emit("flatten", [x], (x.shape[0], int(np.prod(x.shape[1:]))))

    def _op_Reshape(self, node):
        attrs = NodeAttributes(node, {"allowzero", "shape"})
        x = self._computed(node, 0)
        if self.opset < 5:
            target = attrs.ints("shape", [])
        else:
            target = [int(d) for d in np.asarray(self._const(node, 1, "shape")).reshape(-1)]
        features = int(np.prod(x.shape[1:]))
        out = self._reshaped(x.shape, target, bool(attrs.int("allowzero", 0)), features)
        if out == (x.shape[0], features):
            return self._emit("flatten" if x.rank == 4 else "identity", [x], out)
        if x.rank == 2 and out == x.shape + (1, 1) or x.rank == 4 and x.shape[2:] == (1, 1) and out == x.shape:
            return self._emit("identity", [x], out)  # [N,F] and [N,F,1,1] are one lmask value
        raise Refusal(f"reshapes {_dims(x.shape)} to {target}; lmask maps only a Reshape that flattens "
                      "([N,C,H,W] to [N,C*H*W]) or adds or drops 1x1 spatial sides")

    @staticmethod
    def _reshaped(shape, target, allowzero, features):
        """The shape Reshape gives `shape` (batch N possibly symbolic), as far as
        lmask needs it: the batch must stay the first dimension."""
        dims = [shape[i] if d == 0 and not allowzero and i < len(shape) else d for i, d in enumerate(target)]
        if dims.count(-1) > 1 or any(d is not None and d < -1 for d in dims) or 0 in dims:
            raise Refusal(f"its shape {target} is not a valid reshape of {_dims(shape)}")
        batch, rest = dims[0], dims[1:]
        if -1 in rest:
            known = int(np.prod([d for d in rest if d != -1]))
            if features % known:
                raise Refusal(f"reshapes {_dims(shape)} to {target}, which moves the batch")
            rest[rest.index(-1)] = features // known
        elif batch == -1:
            if int(np.prod(rest)) != features:
                raise Refusal(f"reshapes {_dims(shape)} to {target}, which moves the batch")
            batch = shape[0]
        if batch != shape[0]:
            raise Refusal(f"reshapes {_dims(shape)} to {target}: the first dimension must stay the batch "
                          f"({'symbolic' if shape[0] is None else shape[0]})")
        return (batch,) + tuple(rest)

    def _op_Dropout(self, node):
        attrs = NodeAttributes(node, {"ratio", "seed", "is_test", "consumed_inputs"})
        if self._has_input(node, 2) and np.asarray(self._const(node, 2, "training_mode")).any():
            raise Refusal("training_mode true: lmask runs inference, where dropout passes its input on")
        del attrs
        x = self._computed(node, 0)
        return self._emit("identity", [x], x.shape)

    def _op_Identity(self, node):
        NodeAttributes(node, set())
        if self._has_input(node, 0) and node.input[0] in self.consts:
            return self.consts[node.input[0]]  # PyTorch's exporter aliases shared weights this way
        x = self._computed(node, 0)
        return self._emit("identity", [x], x.shape)

    def _op_Constant(self, node):
        return constant_node_value(node)

    def _op_Pad(self, node):
        attrs = NodeAttributes(node, {"mode", "pads", "value"})
        if self.opset < 11:
            pads = attrs.ints("pads", [])
        else:
            pads = [int(p) for p in np.asarray(self._const(node, 1, "pads")).reshape(-1)]
            if self._has_input(node, 3):
                raise Refusal("pads only some axes (input 'axes'), which lmask does not map")
        x = self._computed(node, 0)
        if any(pads):
            raise Refusal(f"pads {pads}: lmask has no Pad (a Conv or pool pads by itself)")
        return self._emit("identity", [x], x.shape)  # PyTorch's exporter writes a zero Pad before AveragePool

    # ---- the result ----------------------------------------------------------
    def _features(self, output):
        """The pooled features: walking back from the output through a head of
        linear, activation, identity and flatten nodes, the global pool it
        starts at; None when the output is reached some other way."""
        node = output
        while True:
            op = self.nodes[node]["op"]
            if op in ("global_avgpool", "adaptive_avgpool"):
                return node
            if op not in ("linear", "activation", "identity", "flatten"):
                return None
            node = self.nodes[node]["inputs"][0]

    def _build(self, image, out):
        """The nodes the output needs, in order, as a GraphBuilder and the tensors."""
        live = {out.node}
        for i in range(out.node, 0, -1):
            if i in live:
                live.update(self.nodes[i]["inputs"])
        new_id, g, tensors = {}, lmask_graph.GraphBuilder(in_channels=image.shape[1]), {}
        new_id[0] = g.input()
        for i in sorted(live - {0}):
            n = self.nodes[i]
            ins = [new_id[k] for k in n["inputs"]]
            new_id[i] = self._add_to(g, n, ins)
            for key, array in n["tensors"].items():
                tensors[f"{n['name']}.{key}"] = array
        g.set_output(new_id[out.node])
        features = self._features(out.node)
        if features is not None:
            g.set_features(new_id[features])
        missing = [k for k in g.weight_names() if k not in tensors]
        assert not missing, missing  # every weighted node stores its tensors under its own name
        return g, tensors, image.shape, out.shape

    @staticmethod
    def _add_to(g, n, ins):
        op, name, p = n["op"], n["name"], n["params"]
        if op == "conv2d":
            return g.conv2d(ins[0], name, bias="bias" in n["tensors"], **p)
        if op == "batchnorm":
            return g.batchnorm(ins[0], name, eps=p["eps"])
        if op == "linear":
            return g.linear(ins[0], name, bias="bias" in n["tensors"])
        if op == "activation":
            return g.activation(ins[0], p["kind"], name=name)
        if op in ("maxpool", "avgpool"):
            return getattr(g, op)(ins[0], name=name, **p)
        if op == "concat":
            return g.concat(ins, name=name)
        if op in ("add", "channel_scale"):
            return getattr(g, op)(ins[0], ins[1], name=name)
        return getattr(g, op)(ins[0], name=name)  # global_avgpool, flatten, identity


def map_model(model, input_size=None):
    """(GraphBuilder, {key: float32 array}, input shape, output shape) of an ONNX model,
    shapes as ONNX's (None: a symbolic batch);
    MappingError (one line, without the file) for what lmask cannot hold."""
    try:
        return Mapper(model, input_size).map()
    except Refusal as exc:  # a model-level problem found outside a node (the opset, an initializer)
        raise MappingError(str(exc))
