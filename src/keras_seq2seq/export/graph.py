"""A small helper for writing ONNX graphs by hand: named inputs, constants, nodes, outputs.

`onnx.helper` builds graphs from protobuf pieces; this keeps the bookkeeping (unique value names,
initializers, opset) in one place, so `encoder.py` and `decoder.py` read like the Keras layers
they mirror: `g.op("MatMul", x, kernel)`.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # ONNX opset of every exported graph (onnxruntime >= 1.14 runs it)
IR_VERSION = 8  # the ONNX file format version that goes with it

FLOAT, INT32, INT64, BOOL = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64, TensorProto.BOOL


class GraphBuilder:
    """Collects the nodes of one ONNX graph; `model()` returns the checked `ModelProto`.

    Args:
        name: the graph's name, also the prefix of its value names (branches get their own).
    """

    def __init__(self, name: str):
        self.name = name
        self.nodes: list = []
        self.initializers: list = []
        self.inputs: list = []
        self.outputs: list = []
        self._count = 0

    def _fresh(self, hint: str) -> str:
        self._count += 1
        return f"{self.name}/{hint}_{self._count}"  # unique across a graph and its branches

    def input(self, name: str, elem_type: int, shape: list) -> str:
        """A graph input; `shape` entries are ints or symbolic names ("batch")."""
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def output(self, name: str, value: str, elem_type: int, shape: list | None = None) -> None:
        """Expose `value` as the graph output `name`."""
        if value != name:
            self.nodes.append(helper.make_node("Identity", [value], [name]))
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))

    def const(self, value, name: str | None = None) -> str:
        """A constant (an initializer): weights or small numbers, stored with the graph."""
        name = name or self._fresh("const")
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attributes):
        """Add one node; returns its output name, or a list of `outputs` names."""
        names = [self._fresh(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else names

    def graph(self) -> onnx.GraphProto:
        return helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.initializers)

    def model(self) -> onnx.ModelProto:
        model = helper.make_model(self.graph(), opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="keras-seq2seq")
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        return model


def subgraph(builder: GraphBuilder) -> onnx.GraphProto:
    """The graph of a branch (for `If`): it may read values of the enclosing graph by name."""
    return builder.graph()
