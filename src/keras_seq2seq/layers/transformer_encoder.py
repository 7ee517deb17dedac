"""The Transformer encoder: source ids -> embeddings + positions -> N self-attention blocks.

Every source position attends to every other real one (padding is masked out), so unlike the
recurrent encoder all positions are computed at once, in a few large matrix products.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.dropout import seeded_dropout
from keras_seq2seq.layers.positions import Positions
from keras_seq2seq.layers.transformer import EncoderBlock, layer_norm


def token_embedding(vocab_size: int, dim: int, dtype, name: str = "embedding") -> keras.layers.Embedding:
    """Embeddings drawn at scale `dim ** -0.5`: multiplied by `sqrt(dim)` on the way in, they
    have unit scale; used as the output layer (tied), they give logits of unit scale."""
    return keras.layers.Embedding(vocab_size, dim, dtype=dtype, name=name,
                                  embeddings_initializer=keras.initializers.RandomNormal(stddev=dim ** -0.5))


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class TransformerEncoder(keras.layers.Layer):
    """Embedding (x sqrt(dim)) + positions, dropout, `num_layers` `EncoderBlock`s (+ a final norm
    with pre-norm blocks).

    Args:
        vocab_size: source vocabulary size (id 0 is padding).
        dim: model size; `heads`: attention heads; `hidden`: feed-forward inner size.
        num_layers: blocks.
        dropout: on embeddings and sublayer outputs; `attention_dropout`: on attention weights.
        pre_norm: normalisation before each sublayer (see `layers/transformer.py`).
        positions: `"sinusoidal"` or `"learnt"`; `max_positions`: how many learnt ones.

    Call arguments:
        source_ids: `batch x src_len` ints, 0 for padding.

    Returns `(memory, mask)`: `batch x src_len x dim` and the `batch x src_len` booleans of real tokens.
    """

    def __init__(self, vocab_size: int, dim: int = 512, heads: int = 8, hidden: int = 2048,
                 num_layers: int = 6, dropout: float = 0.1, attention_dropout: float = 0.1,
                 pre_norm: bool = True, positions: str = "sinusoidal", max_positions: int = 1024, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.dim = dim
        self.heads = heads
        self.hidden = hidden
        self.num_layers = num_layers
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.pre_norm = pre_norm
        self.positions = positions
        self.max_positions = max_positions
        self.embedding = token_embedding(vocab_size, dim, self.dtype_policy)
        self.position_encoding = Positions(dim, positions, max_positions, dtype=self.dtype_policy, name="positions")
        self.drop = seeded_dropout(dropout, dtype=self.dtype_policy, name="dropout")
        self.blocks = [EncoderBlock(dim, heads, hidden, dropout, attention_dropout, pre_norm,
                                    dtype=self.dtype_policy, name=f"block_{i}") for i in range(num_layers)]
        self.final_norm = layer_norm("final_norm", self.dtype_policy) if pre_norm else None

    def build(self, input_shape=None):
        self.embedding.build((None, None))
        self.position_encoding.build()
        for block in self.blocks:
            block.build()
        if self.final_norm is not None:
            self.final_norm.build((None, None, self.dim))
        self.built = True

    def call(self, source_ids, training=False):
        mask = ops.not_equal(source_ids, 0)
        x = self.embedding(source_ids) * ops.cast(self.dim ** 0.5, self.compute_dtype)
        x = self.drop(self.position_encoding(x), training=training)  # batch x src_len x dim
        attend = ops.reshape(mask, (ops.shape(mask)[0], 1, 1, -1))  # every query, the real keys
        for block in self.blocks:
            x = block(x, attend, training=training)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x, mask

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim, "heads": self.heads,
                "hidden": self.hidden, "num_layers": self.num_layers, "dropout": self.dropout,
                "attention_dropout": self.attention_dropout, "pre_norm": self.pre_norm,
                "positions": self.positions, "max_positions": self.max_positions}
