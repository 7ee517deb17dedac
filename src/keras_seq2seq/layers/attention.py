"""Attention over the encoder's outputs (the "memory"), one decoder step at a time.

Three scoring functions, as in the papers that named them:

- `bahdanau` (additive, Bahdanau et al., 2015): `v · tanh(W_k m + W_q h)`
- `luong-dot` (Luong et al., 2015): `h · m` (memory and decoder state must have the same size)
- `luong-general` (Luong et al., 2015): `h · W m`

Everything that depends only on the memory (`W_k m`, `W m`) is computed once per sentence by
`keys()`, not once per decoder step. Padded source positions get weight exactly zero.

`scaled=True` divides the Luong scores by `sqrt(units)` (as scaled dot-product attention does):
the LSTM states that meet in the score saturate at ±1 early in training, unscaled scores then
differ by ~150 between source positions, the softmax is one-hot and its gradient vanishes, so
attention can stay stuck on one position for good.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.config import ATTENTION_KINDS
from keras_seq2seq.layers.recurrent import matmul_2d


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Attention(keras.layers.Layer):
    """Scores a decoder state against every source position; returns the context and weights.

    Args:
        kind: `"bahdanau"`, `"luong-dot"` or `"luong-general"`.
        units: size of the decoder state (the query) and of the memory.
        scaled: divide Luong scores by `sqrt(units)` (no effect on `"bahdanau"`, whose scores
            are bounded by its `tanh`).

    Call arguments:
        query: `batch x units`, the decoder's top hidden state at this step.
        memory: `batch x src_len x units`, the encoder's outputs.
        keys: `keys(memory)`, precomputed once per batch of sentences.
        mask: `batch x src_len` booleans, True on real tokens.

    Returns `(context, weights)`: `batch x units` and `batch x src_len` (rows sum to 1 over
    real tokens, exactly 0 on padding).
    """

    def __init__(self, kind: str, units: int, scaled: bool = False, **kwargs):
        super().__init__(**kwargs)
        if kind not in ATTENTION_KINDS[1:]:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS[1:]}, got {kind!r}")
        self.kind = kind
        self.units = units
        self.scaled = scaled

    def build(self, input_shape=None):
        u = self.units
        if self.kind == "luong-general":
            self.key_kernel = self.add_weight(name="key_kernel", shape=(u, u), initializer="glorot_uniform")
        elif self.kind == "bahdanau":
            self.key_kernel = self.add_weight(name="key_kernel", shape=(u, u), initializer="glorot_uniform")
            self.query_kernel = self.add_weight(name="query_kernel", shape=(u, u), initializer="glorot_uniform")
            self.score_vector = self.add_weight(name="score_vector", shape=(u,), initializer="glorot_uniform")
        self.built = True

    def keys(self, memory):
        """What the scores need from the memory, `batch x src_len x units`."""
        if self.kind == "luong-dot":
            keys = memory
        else:
            keys = matmul_2d(memory, ops.cast(self.key_kernel, memory.dtype))
        if self.scaled and self.kind != "bahdanau":  # here once per sentence, not at every step
            keys = keys * ops.cast(1.0 / self.units ** 0.5, keys.dtype)
        return keys

    def call(self, query, memory, keys, mask):
        if self.kind == "bahdanau":
            projected = ops.matmul(query, ops.cast(self.query_kernel, query.dtype))  # batch x units
            hidden = ops.tanh(keys + ops.expand_dims(projected, 1))  # batch x src x units
            scores = ops.matmul(hidden, ops.cast(self.score_vector, hidden.dtype))  # batch x src
        else:
            scores = ops.squeeze(ops.matmul(keys, ops.expand_dims(query, -1)), -1)  # batch x src
        scores = ops.cast(scores, "float32")
        mask = ops.cast(mask, "bool")
        scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        # The product with the mask makes padded weights exactly 0, even for an all-padding row.
        weights = ops.softmax(scores, axis=-1) * ops.cast(mask, "float32")
        weights = ops.cast(weights, memory.dtype)
        context = ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), memory), 1)  # batch x units
        return context, weights

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "units": self.units, "scaled": self.scaled}
