"""The Transformer's building blocks: a feed-forward sublayer, an encoder block, a decoder block.

Each block is a few sublayers (attention, feed-forward), each wrapped in a residual connection
and a layer normalisation. Where the normalisation goes matters:

- post-norm (the paper): `x = norm(x + sublayer(x))`. Trains well with a long warm-up; the
  gradient to early layers passes through every normalisation.
- pre-norm (`pre_norm=True`): `x = x + sublayer(norm(x))`, with one more normalisation after
  the last block (done by the stacks, `layers/transformer_encoder.py` and `_decoder.py`). The
  residual path is then an identity from input to output, which trains stably at higher
  learning rates and with short warm-ups: the better choice for short CPU budgets.

Dropout is applied, as in the paper, to each sublayer's output before the residual sum (and by
the stacks to the embeddings), and (`attention_dropout`) to the attention weights. Not inside the
feed-forward layer, after its ReLU, as OpenNMT-py does: on a CPU, drawing that many random bits
(4 x dim per token) cost more time than the rest of the layer (measured in commit 17e07f9).
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.dropout import seeded_dropout
from keras_seq2seq.layers.multi_head import MultiHeadAttention
from keras_seq2seq.layers.recurrent import matmul_2d

NORM_EPSILON = 1e-6


def layer_norm(name: str, dtype) -> keras.layers.LayerNormalization:
    return keras.layers.LayerNormalization(epsilon=NORM_EPSILON, dtype=dtype, name=name)


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class FeedForward(keras.layers.Layer):
    """`W2 · relu(W1 x + b1) + b2`, applied at every position.

    Args:
        dim: model size (input and output).
        hidden: inner size (the paper's d_ff, 4 x dim).

    Call arguments:
        x: `... x dim`.

    Returns `... x dim`.
    """

    def __init__(self, dim: int, hidden: int, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.hidden = hidden

    def build(self, input_shape=None):
        self.inner_kernel = self.add_weight(name="inner_kernel", shape=(self.dim, self.hidden),
                                            initializer="glorot_uniform")
        self.inner_bias = self.add_weight(name="inner_bias", shape=(self.hidden,), initializer="zeros")
        self.outer_kernel = self.add_weight(name="outer_kernel", shape=(self.hidden, self.dim),
                                            initializer="glorot_uniform")
        self.outer_bias = self.add_weight(name="outer_bias", shape=(self.dim,), initializer="zeros")
        self.built = True

    def call(self, x):
        hidden = ops.relu(matmul_2d(x, ops.cast(self.inner_kernel, x.dtype)) + ops.cast(self.inner_bias, x.dtype))
        return matmul_2d(hidden, ops.cast(self.outer_kernel, x.dtype)) + ops.cast(self.outer_bias, x.dtype)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "hidden": self.hidden}


class _Block(keras.layers.Layer):
    """What both blocks share: sizes, residual dropout, and the residual-and-norm wrapper."""

    def __init__(self, dim: int, heads: int, hidden: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, pre_norm: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.heads = heads
        self.hidden = hidden
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.pre_norm = pre_norm
        self.drop = seeded_dropout(dropout, dtype=self.dtype_policy, name="dropout")
        self.feed_forward = FeedForward(dim, hidden, dtype=self.dtype_policy, name="feed_forward")
        self.feed_forward_norm = layer_norm("feed_forward_norm", self.dtype_policy)

    def _residual(self, x, norm, sublayer, training):
        """`x + dropout(sublayer(norm(x)))` (pre-norm) or `norm(x + dropout(sublayer(x)))`.

        `sublayer` returns `(output, *extra)`; this returns `(new x, *extra)`.
        """
        output, *extra = sublayer(norm(x) if self.pre_norm else x)
        x = x + self.drop(output, training=training)
        return ((x if self.pre_norm else norm(x)), *extra)

    def _feed_forward(self, x, training):
        x, = self._residual(x, self.feed_forward_norm, lambda y: (self.feed_forward(y),),
                            training)
        return x

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "heads": self.heads, "hidden": self.hidden,
                "dropout": self.dropout, "attention_dropout": self.attention_dropout,
                "pre_norm": self.pre_norm}


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class EncoderBlock(_Block):
    """Self-attention over the source, then the feed-forward sublayer.

    Args:
        dim, heads: model size and attention heads.
        hidden: the feed-forward inner size.
        dropout: residual and feed-forward dropout; `attention_dropout`: on attention weights.
        pre_norm: normalise each sublayer's input (True) or each residual sum (False).

    Call arguments:
        x: `batch x src_len x dim`.
        mask: `batch x 1 x 1 x src_len` booleans, True on real source tokens.

    Returns `batch x src_len x dim`.
    """

    def __init__(self, dim: int, heads: int, hidden: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, pre_norm: bool = True, **kwargs):
        super().__init__(dim, heads, hidden, dropout, attention_dropout, pre_norm, **kwargs)
        self.attention = MultiHeadAttention(dim, heads, attention_dropout, dtype=self.dtype_policy,
                                            name="self_attention")
        self.attention_norm = layer_norm("self_attention_norm", self.dtype_policy)

    def build(self, input_shape=None):
        for layer in (self.attention, self.feed_forward):
            layer.build()
        for norm in (self.attention_norm, self.feed_forward_norm):
            norm.build((None, None, self.dim))
        self.built = True

    def call(self, x, mask, training=False):
        x, _ = self._residual(x, self.attention_norm,
                              lambda y: self.attention(y, mask, training=training), training)
        return self._feed_forward(x, training)


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class DecoderBlock(_Block):
    """Causal self-attention over the target so far, attention over the source, feed-forward.

    Args: as for `EncoderBlock`.

    Call arguments:
        x: `batch x tgt_len x dim`.
        causal: `1 x 1 x tgt_len x tgt_len` booleans, True where position i may see position j.
        memory: `(keys, values)` of the source for this block, from `cross_attention.memory()`.
        source_mask: `batch x 1 x 1 x src_len` booleans.

    Returns `(batch x tgt_len x dim, cross-attention weights batch x heads x tgt_len x src_len)`.
    `step` does the same for one position with a key/value cache (see `MultiHeadAttention.step`).
    """

    def __init__(self, dim: int, heads: int, hidden: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, pre_norm: bool = True, **kwargs):
        super().__init__(dim, heads, hidden, dropout, attention_dropout, pre_norm, **kwargs)
        self.self_attention = MultiHeadAttention(dim, heads, attention_dropout, dtype=self.dtype_policy,
                                                 name="self_attention")
        self.self_attention_norm = layer_norm("self_attention_norm", self.dtype_policy)
        self.cross_attention = MultiHeadAttention(dim, heads, attention_dropout, cross=True,
                                                  dtype=self.dtype_policy, name="cross_attention")
        self.cross_attention_norm = layer_norm("cross_attention_norm", self.dtype_policy)

    def build(self, input_shape=None):
        for layer in (self.self_attention, self.cross_attention, self.feed_forward):
            layer.build()
        for norm in (self.self_attention_norm, self.cross_attention_norm, self.feed_forward_norm):
            norm.build((None, None, self.dim))
        self.built = True

    def call(self, x, causal, memory, source_mask, training=False):
        x, _ = self._residual(x, self.self_attention_norm,
                              lambda y: self.self_attention(y, causal, training=training), training)
        x, weights = self._residual(
            x, self.cross_attention_norm,
            lambda y: self.cross_attention(y, source_mask, memory=memory, training=training), training)
        return self._feed_forward(x, training), weights

    def step(self, x, position, cache, memory, source_mask):
        """`x` is `batch x dim` at `position`; returns `(x, weights batch x heads x src_len, cache)`."""
        x, _, cache = self._residual(x, self.self_attention_norm,
                                     lambda y: self.self_attention.step(y, position, cache=cache), False)
        x, weights, _ = self._residual(
            x, self.cross_attention_norm,
            lambda y: self.cross_attention.step(y, position, memory=memory, mask=source_mask), False)
        return self._feed_forward(x, False), weights, cache
