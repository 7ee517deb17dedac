"""Multi-head scaled dot-product attention (Vaswani et al., 2017), with a cache for decoding.

Written with `keras.ops` rather than `keras.layers.MultiHeadAttention` for two reasons:

- Generation. A decoder that writes token `t` needs the keys and values of tokens `0..t-1`
  again. Recomputing them makes every step cost O(t) projections; keeping them in a cache
  allocated once at its full length (`batch x max_length x dim`) and written in place with
  `ops.slice_update` makes a step cost one token's projections. The keys and values of the
  source, which every decoder step reads, are projected once per sentence (`memory`).
- Speed on CPUs. The projections are fused (query, key and value in one `dim x 3 dim` product
  for self-attention) and run as 2-D matrix products, which XLA's CPU backend does much faster
  than the same work as batched 3-D products (see `layers/recurrent.py: matmul_2d`).

The same `_attend` serves training (all positions at once) and generation (one query row), so
the two paths compute the same numbers (tests/layers/test_multi_head.py).
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.dropout import seeded_dropout
from keras_seq2seq.layers.recurrent import matmul_2d

NEG_INF = -1e9  # added to the scores of positions a query must not see


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class MultiHeadAttention(keras.layers.Layer):
    """Self-attention (`cross=False`) or attention over an encoded source (`cross=True`).

    Args:
        dim: model size; queries, keys, values and the output all have it.
        heads: attention heads; `dim` must be a multiple of it.
        dropout: dropout on the attention weights (training only).
        cross: keys and values come from `memory(...)` of a source, not from the input.

    Call arguments:
        x: `batch x len x dim` queries (and, for self-attention, keys and values).
        mask: booleans broadcastable to `batch x heads x len x keys`, True where a query may look.
        memory: cross-attention: `(keys, values)` from `memory()`, each `batch x src_len x dim`.

    Returns `(output batch x len x dim, weights batch x heads x len x keys)`; weights are float32.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0, cross: bool = False, **kwargs):
        super().__init__(**kwargs)
        if dim % heads:
            raise ValueError(f"the model size ({dim}) must be a multiple of the number of heads ({heads})")
        self.dim = dim
        self.heads = heads
        self.dropout = dropout
        self.cross = cross
        self.drop = seeded_dropout(dropout, dtype=self.dtype_policy, name="dropout")

    def build(self, input_shape=None):
        d = self.dim
        # Xavier-uniform like the other layers; one bias per projected feature.
        if self.cross:
            self.query_kernel = self.add_weight(name="query_kernel", shape=(d, d), initializer="glorot_uniform")
            self.query_bias = self.add_weight(name="query_bias", shape=(d,), initializer="zeros")
            self.memory_kernel = self.add_weight(name="memory_kernel", shape=(d, 2 * d), initializer="glorot_uniform")
            self.memory_bias = self.add_weight(name="memory_bias", shape=(2 * d,), initializer="zeros")
        else:
            self.qkv_kernel = self.add_weight(name="qkv_kernel", shape=(d, 3 * d), initializer="glorot_uniform")
            self.qkv_bias = self.add_weight(name="qkv_bias", shape=(3 * d,), initializer="zeros")
        self.output_kernel = self.add_weight(name="output_kernel", shape=(d, d), initializer="glorot_uniform")
        self.output_bias = self.add_weight(name="output_bias", shape=(d,), initializer="zeros")
        self.built = True

    # ------------------------------------------------------------------ projections
    def _dense(self, x, kernel, bias):
        return matmul_2d(x, ops.cast(kernel, x.dtype)) + ops.cast(bias, x.dtype)

    def memory(self, source):
        """Cross-attention's keys and values of an encoded source (`batch x src_len x dim`),
        computed once per sentence: `(keys, values)`, each `batch x src_len x dim`."""
        keys, values = ops.split(self._dense(source, self.memory_kernel, self.memory_bias), 2, axis=-1)
        return keys, values

    def _self_projections(self, x):
        query, keys, values = ops.split(self._dense(x, self.qkv_kernel, self.qkv_bias), 3, axis=-1)
        return query, keys, values

    # ------------------------------------------------------------------ attention
    def _attend(self, query, keys, values, mask, training=False):
        """query `batch x len x dim`, keys/values `batch x keys x dim` -> `(context, weights)`."""
        batch, length = ops.shape(query)[0], ops.shape(query)[1]
        h, size = self.heads, self.dim // self.heads
        query = ops.reshape(query * ops.cast(size ** -0.5, query.dtype), (batch, length, h, size))
        keys = ops.reshape(keys, (batch, -1, h, size))
        values = ops.reshape(values, (batch, -1, h, size))
        scores = ops.cast(ops.einsum("bqhd,bkhd->bhqk", query, keys), "float32")  # batch x h x len x keys
        scores = ops.where(mask, scores, NEG_INF)
        # The softmax, written out: `ops.softmax` warns when a step attends to a single position.
        weights = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True))
        weights = weights / ops.sum(weights, axis=-1, keepdims=True)
        dropped = self.drop(ops.cast(weights, query.dtype), training=training)
        context = ops.einsum("bhqk,bkhd->bqhd", dropped, values)  # batch x len x h x size
        context = ops.reshape(context, (batch, length, self.dim))
        return self._dense(context, self.output_kernel, self.output_bias), weights

    def call(self, x, mask, memory=None, training=False):
        if self.cross:
            if memory is None:
                raise ValueError("cross-attention reads a source: call it with memory=layer.memory(encoded)")
            query = self._dense(x, self.query_kernel, self.query_bias)
            keys, values = memory
        else:
            query, keys, values = self._self_projections(x)
        return self._attend(query, keys, values, mask, training)

    def step(self, x, position, cache=None, memory=None, mask=None):
        """One decoding step for every row: `x` is `batch x dim`, the tokens at `position`.

        Self-attention: `cache = (keys, values)`, each `batch x max_length x dim`, holds the
        earlier tokens' keys and values; this token's are written at `position` (a scalar: every
        row of a batch decodes the same step) and the query attends to positions `<= position`.
        Cross-attention: `memory` and `mask` (`batch x src_len`) as for `call`; `cache` is None.

        Returns `(output batch x dim, weights batch x heads x keys, cache)`.
        """
        x = ops.expand_dims(x, 1)  # batch x 1 x dim: the training path's shapes, one query long
        if self.cross:
            query = self._dense(x, self.query_kernel, self.query_bias)
            keys, values = memory
            mask = ops.reshape(mask, (ops.shape(mask)[0], 1, 1, -1))
        else:
            query, key, value = self._self_projections(x)
            keys = ops.slice_update(cache[0], (0, position, 0), key)
            values = ops.slice_update(cache[1], (0, position, 0), value)
            cache = (keys, values)
            mask = ops.reshape(ops.arange(ops.shape(keys)[1]) <= position, (1, 1, 1, -1))
        output, weights = self._attend(query, keys, values, mask)
        return output[:, 0], weights[:, :, 0], cache

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "heads": self.heads, "dropout": self.dropout,
                "cross": self.cross}
