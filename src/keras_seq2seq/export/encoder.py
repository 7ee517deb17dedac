"""The encoder as an ONNX graph: source ids in, the decoder's first state and the source out.

It computes what `Seq2Seq.encode` computes: embeddings, the stacked (bidirectional) LSTM/GRU
layers, the optional bridge, then the decoder's initial state (the final states, plus a zero
input-feeding vector with attention) and what attention reads (memory, keys, mask).

The recurrent layers are ONNX's own `LSTM`/`GRU` operators, given each row's real length
(`sequence_lens`): like our masked scan, they stop each row at its last real token, the backward
direction starts there, and padded steps output zeros. GRU uses `linear_before_reset=1`, the
variant whose reset gate multiplies the recurrent product with its bias, as ours does.

Graph inputs: `source_ids` int32 `batch x source_length` (0 is padding).
Graph outputs: the state (`h_0`, `c_0`, … per layer, `feed` with attention), each
`batch x units`; with attention also `memory`, `keys` (`batch x source_length x units`) and
`mask` (bool `batch x source_length`).
"""

from __future__ import annotations

import numpy as np

from keras_seq2seq.export.graph import BOOL, FLOAT, INT32, GraphBuilder
from keras_seq2seq.export.weights import array, onnx_recurrent


def state_names(num_layers: int, cell: str, attention: bool) -> list[str]:
    """The decoder state's tensors, in the order the graphs pass them."""
    parts = ("h", "c") if cell == "lstm" else ("h",)
    names = [f"{part}_{layer}" for layer in range(num_layers) for part in parts]
    return names + (["feed"] if attention else [])


SOURCE_NAMES = ["memory", "keys", "mask"]  # what attention reads (attention models only)


def encoder_graph(model):
    """The `ModelProto` of `model.encode` (a built `Seq2Seq`)."""
    encoder, decoder = model.encoder, model.decoder
    g = GraphBuilder("encoder")
    source_ids = g.input("source_ids", INT32, ["batch", "source_length"])
    mask = g.op("Not", g.op("Equal", source_ids, g.const(np.int32(0))))  # batch x src
    lengths = g.op("ReduceSum", g.op("Cast", mask, to=INT32), g.const(np.array([1], np.int64)), keepdims=0)
    x = g.op("Gather", g.const(array(encoder.embedding.embeddings), "source_embedding"), source_ids)
    x = g.op("Transpose", x, perm=[1, 0, 2])  # src x batch x emb: the operators are time-major

    final_states = []  # per layer: (h, c) or (h,), each batch x units
    for i, rnn in enumerate(encoder.rnns):
        directions = [rnn] + ([encoder.backward_rnns[i]] if encoder.bidirectional else [])
        w, r, b = (np.stack(parts) for parts in zip(*(onnx_recurrent(d) for d in directions)))
        weights = [g.const(w, f"encoder_{i}_W"), g.const(r, f"encoder_{i}_R"), g.const(b, f"encoder_{i}_B")]
        attributes = dict(hidden_size=rnn.units, direction="bidirectional" if encoder.bidirectional else "forward")
        if rnn.cell == "lstm":
            y, *last = g.op("LSTM", x, *weights, lengths, outputs=3, **attributes)
        else:
            y, *last = g.op("GRU", x, *weights, lengths, outputs=2, linear_before_reset=1, **attributes)
        # y: src x directions x batch x size -> src x batch x (directions*size): [forward; backward]
        x = g.op("Reshape", g.op("Transpose", y, perm=[0, 2, 1, 3]), g.const(np.array([0, 0, -1], np.int64)))
        # each final state: directions x batch x size -> batch x (directions*size)
        final_states.append([g.op("Reshape", g.op("Transpose", s, perm=[1, 0, 2]),
                                  g.const(np.array([0, -1], np.int64))) for s in last])
    if encoder.bridge:
        bridges = iter(encoder.bridges)
        final_states = [[_dense(g, next(bridges), s, "Tanh") for s in layer] for layer in final_states]

    names = state_names(encoder.num_layers, encoder.cell, decoder.has_attention)
    values = [s for layer in final_states for s in layer]
    if decoder.has_attention:
        values.append(g.op("ConstantOfShape", g.op("Shape", values[-1]),
                           value=_float_tensor(0.0)))  # the first step has no attentional vector yet
    for name, value in zip(names, values):
        g.output(name, value, FLOAT, ["batch", model.units])
    if decoder.has_attention:
        memory = g.op("Transpose", x, perm=[1, 0, 2])  # batch x src x units
        g.output("memory", memory, FLOAT, ["batch", "source_length", model.units])
        g.output("keys", _keys(g, decoder.attend, memory), FLOAT, ["batch", "source_length", model.units])
        g.output("mask", mask, BOOL, ["batch", "source_length"])
    return g.model()


def _keys(g: GraphBuilder, attend, memory: str) -> str:
    """`Attention.keys`: what the scores need from the memory, computed once per sentence."""
    keys = memory if attend.kind == "luong-dot" else g.op("MatMul", memory, g.const(array(attend.key_kernel), "key_kernel"))
    if attend.scaled and attend.kind != "bahdanau":
        keys = g.op("Mul", keys, g.const(np.float32(1.0 / attend.units ** 0.5)))
    return keys


def _dense(g: GraphBuilder, dense, x: str, activation: str | None = None) -> str:
    """A Keras `Dense` layer on `rows x in`."""
    y = g.op("MatMul", x, g.const(array(dense.kernel)))
    if dense.use_bias:
        y = g.op("Add", y, g.const(array(dense.bias)))
    return g.op(activation, y) if activation else y


def _float_tensor(value: float):
    from onnx import helper

    return helper.make_tensor("value", FLOAT, [1], [value])
