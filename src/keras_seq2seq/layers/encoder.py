"""The encoder: source ids → embeddings → a stack of RNN layers → memory and final states.

The final states of every layer are the "context" the decoder starts from (Sutskever et al., 2014).
The per-step outputs (the memory) are returned too, for attention to read later.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.recurrent import Recurrent


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Encoder(keras.layers.Layer):
    """Embedding with padding mask, then `num_layers` stacked LSTM/GRU layers.

    Args:
        vocab_size: source vocabulary size (id 0 is padding).
        embedding_dim: size of the token embeddings.
        units: hidden size of every layer.
        num_layers: how many recurrent layers are stacked.
        cell: `"lstm"` or `"gru"`.
        dropout: dropout rate on the embeddings and between layers (training only).

    Call arguments:
        source_ids: `batch x src_len` int tensor, 0 for padding.

    Returns `(memory, states, mask)`: `batch x src_len x units`, a list with one state tuple per
    layer (each `batch x units`), and the `batch x src_len` boolean mask of real tokens.
    """

    def __init__(self, vocab_size, embedding_dim=128, units=256, num_layers=1, cell="lstm",
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.cell = cell
        self.dropout = dropout
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, dtype=self.dtype_policy, name="embedding"
        )
        self.rnns = [
            Recurrent(units, cell, dtype=self.dtype_policy, name=f"{cell}_{i}")
            for i in range(num_layers)
        ]
        self.drop = keras.layers.Dropout(dropout, dtype=self.dtype_policy, name="dropout")

    def build(self, input_shape):
        self.embedding.build(input_shape)
        features = self.embedding_dim
        for rnn in self.rnns:
            rnn.build((None, None, features))
            features = self.units
        self.built = True

    def call(self, source_ids, training=False):
        mask = ops.not_equal(source_ids, 0)
        x = self.drop(self.embedding(source_ids), training=training)  # batch x src_len x emb
        states = []
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.drop(x, training=training)
            x, final_state = rnn(x, mask=mask)  # x: batch x src_len x units
            states.append(final_state)
        return x, states, mask

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "num_layers": self.num_layers,
            "cell": self.cell,
            "dropout": self.dropout,
        }
