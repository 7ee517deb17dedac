"""The decoder, as a sequence layer for training and as one step for generation.

Both paths use the same embedding, recurrent and output weights: `call` runs the whole shifted
target at once (teacher forcing), `step` advances every sentence of a batch by one token. Because
there is only one set of layers, a generator built from a trained model can never drift from it.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.recurrent import Recurrent


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Decoder(keras.layers.Layer):
    """Target embedding → stacked LSTM/GRU started from the encoder's states → logits.

    Args:
        vocab_size: target vocabulary size.
        embedding_dim: size of the target embeddings.
        units: hidden size of every layer (equal to the encoder's).
        num_layers: stacked layers (equal to the encoder's: layer i starts from encoder layer i).
        cell: `"lstm"` or `"gru"`.
        dropout: dropout on embeddings, between layers and before the output layer.

    Call arguments:
        target_in: `batch x tgt_len` ids, the target shifted right (`<bos>` first).
        states: list of per-layer state tuples from the encoder.

    Returns logits, `batch x tgt_len x vocab_size` (float32 even under mixed precision).
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
        self.output_layer = keras.layers.Dense(vocab_size, dtype="float32", name="logits")

    def build(self, input_shape):
        self.embedding.build(input_shape)
        features = self.embedding_dim
        for rnn in self.rnns:
            rnn.build((None, None, features))
            features = self.units
        self.output_layer.build((None, None, self.units))
        self.built = True

    def call(self, target_in, states, training=False):
        x = self.drop(self.embedding(target_in), training=training)  # batch x tgt_len x emb
        for i, (rnn, state) in enumerate(zip(self.rnns, states)):
            if i > 0:
                x = self.drop(x, training=training)
            # No mask: padding sits at the end, so it cannot reach the real steps before it.
            x, _ = rnn(x, initial_state=state)  # batch x tgt_len x units
        x = self.drop(x, training=training)
        return self.output_layer(x)

    def step(self, token_ids, states):
        """Advance one token: `token_ids` is `batch`; returns `(logits batch x vocab, states)`."""
        x = self.embedding(token_ids)  # batch x emb
        new_states = []
        for rnn, state in zip(self.rnns, states):
            x, state = rnn.step(rnn.project(x), state)  # batch x units
            new_states.append(state)
        return self.output_layer(x), new_states

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
