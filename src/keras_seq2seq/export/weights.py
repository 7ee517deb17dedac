"""The trained weights as numpy arrays, in the layouts the ONNX graphs want.

Our `Recurrent` layer keeps a `features x gates*units` kernel with the gates in Keras' order
(LSTM: input, forget, cell, output; GRU: reset, update, new). ONNX's `LSTM` and `GRU` operators
want one `gates*units x features` matrix per direction, gates in their order (LSTM: i, o, f, c;
GRU: z, r, h), and the input and recurrent biases side by side. The decoder's one step is
written with plain `MatMul`s instead, and keeps the Keras layout.
"""

from __future__ import annotations

import numpy as np

# Position in our kernel of each gate ONNX expects, in ONNX's order.
ONNX_GATE_ORDER = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2]}


def array(variable) -> np.ndarray:
    """A Keras variable's value as a float32 numpy array."""
    from keras import ops

    return np.asarray(ops.convert_to_numpy(variable), dtype=np.float32)


def onnx_recurrent(rnn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(W gates*units x features, R gates*units x units, B 2*gates*units)` of one direction."""
    order = ONNX_GATE_ORDER[rnn.cell]

    def reorder(matrix: np.ndarray) -> np.ndarray:  # rows: gates*units, in ONNX's gate order
        blocks = np.split(matrix, len(order), axis=0)
        return np.concatenate([blocks[i] for i in order], axis=0)

    w = reorder(array(rnn.kernel).T)
    r = reorder(array(rnn.recurrent_kernel).T)
    input_bias = reorder(array(rnn.bias)[:, None])[:, 0]
    if rnn.cell == "gru":
        recurrent_bias = reorder(array(rnn.recurrent_bias)[:, None])[:, 0]
    else:
        recurrent_bias = np.zeros_like(input_bias)
    return w, r, np.concatenate([input_bias, recurrent_bias])


def output_layer(decoder) -> tuple[np.ndarray, np.ndarray]:
    """`(kernel in x vocab, bias vocab)` of the output layer (the transposed embeddings when tied)."""
    if decoder.tie_embeddings:
        return np.ascontiguousarray(array(decoder.embedding.embeddings).T), array(decoder.output_bias)
    return array(decoder.output_layer.kernel), array(decoder.output_layer.bias)
