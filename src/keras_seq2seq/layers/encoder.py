"""The encoder: source ids → embeddings → a stack of RNN layers → memory and final states.

The final states of every layer are the "context" the decoder starts from (Sutskever et al., 2014).
The per-step outputs (the memory) are returned too, for attention to read later.

A bidirectional layer runs two recurrent layers of `units / 2` each, one from each end, and joins
their outputs and final states, so the memory and states keep the decoder's size `units` (as
OpenNMT's "brnn" does). An optional bridge passes every final state through a learnt
`tanh(W s + b)` before the decoder starts from it.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.dropout import seeded_dropout
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
        bidirectional: read the source in both directions in every layer (`units` must be even).
        bridge: map the final states through a learnt dense layer before the decoder uses them.

    Call arguments:
        source_ids: `batch x src_len` int tensor, 0 for padding.

    Returns `(memory, states, mask)`: `batch x src_len x units`, a list with one state tuple per
    layer (each `batch x units`), and the `batch x src_len` boolean mask of real tokens.
    """

    def __init__(self, vocab_size, embedding_dim=128, units=256, num_layers=1, cell="lstm",
                 dropout=0.0, bidirectional=False, bridge=False, **kwargs):
        super().__init__(**kwargs)
        if bidirectional and units % 2:
            raise ValueError(f"a bidirectional encoder needs an even number of units, got {units}")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.cell = cell
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.bridge = bridge
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, dtype=self.dtype_policy, name="embedding"
        )
        size = units // 2 if bidirectional else units
        self.rnns = [
            Recurrent(size, cell, dtype=self.dtype_policy, name=f"{cell}_{i}")
            for i in range(num_layers)
        ]
        self.backward_rnns = [
            Recurrent(size, cell, dtype=self.dtype_policy, name=f"{cell}_{i}_backward")
            for i in range(num_layers if bidirectional else 0)
        ]
        state_size = 2 if cell == "lstm" else 1
        self.bridges = [
            keras.layers.Dense(units, activation="tanh", dtype=self.dtype_policy, name=f"bridge_{i}")
            for i in range(num_layers * state_size if bridge else 0)
        ]
        self.drop = seeded_dropout(dropout, dtype=self.dtype_policy, name="dropout")

    def build(self, input_shape):
        self.embedding.build(input_shape)
        for i, rnn in enumerate(self.rnns + self.backward_rnns):
            first_layer = i % self.num_layers == 0
            rnn.build((None, None, self.embedding_dim if first_layer else self.units))
        for dense in self.bridges:
            dense.build((None, self.units))
        self.built = True

    def call(self, source_ids, training=False):
        mask = ops.not_equal(source_ids, 0)
        x = self.drop(self.embedding(source_ids), training=training)  # batch x src_len x emb
        states = []
        for i, rnn in enumerate(self.rnns):
            if i > 0:
                x = self.drop(x, training=training)
            if self.bidirectional:
                forward, forward_state = rnn(x, mask=mask)
                backward, backward_state = self.backward_rnns[i](x, mask=mask, reverse=True)
                x = ops.concatenate([forward, backward], axis=-1)
                final_state = tuple(ops.concatenate(pair, axis=-1) for pair in zip(forward_state, backward_state))
            else:
                x, final_state = rnn(x, mask=mask)  # x: batch x src_len x units
            states.append(final_state)
        if self.bridge:
            bridges = iter(self.bridges)
            states = [tuple(next(bridges)(s) for s in state) for state in states]
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
            "bidirectional": self.bidirectional,
            "bridge": self.bridge,
        }
