"""The decoder, as a sequence layer for training and as one step for generation.

Both paths use the same embedding, recurrent, attention and output weights: `call` runs the whole
shifted target at once (teacher forcing), `step` advances every sentence of a batch by one token.
Because there is only one set of layers, a generator built from a trained model can never drift
from it.

With attention (Luong et al., 2015), each step's top hidden state `h` is scored against the
source memory, and the "attentional vector" `tanh(W_c [context; h])` is what the output layer
reads. It is also fed to the next step alongside the next token's embedding ("input feeding"),
so the decoder knows what it attended to before. The decoder state then holds that vector too.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.layers.attention import Attention
from keras_seq2seq.layers.dropout import seeded_dropout
from keras_seq2seq.layers.output_weights import OutputWeights
from keras_seq2seq.layers.recurrent import Recurrent


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Decoder(OutputWeights, keras.layers.Layer):
    """Target embedding → stacked LSTM/GRU started from the encoder's states → (attention) → logits.

    Args:
        vocab_size: target vocabulary size.
        embedding_dim: size of the target embeddings.
        units: hidden size of every layer (equal to the encoder's).
        num_layers: stacked layers (equal to the encoder's: layer i starts from encoder layer i).
        cell: `"lstm"` or `"gru"`.
        dropout: dropout on embeddings, between layers and before the output layer.
        attention: `"none"`, `"bahdanau"`, `"luong-dot"` or `"luong-general"`.
        scaled_attention: Luong scores divided by `sqrt(units)` (see `Attention`).
        tie_embeddings: the output layer reuses the embedding matrix, transposed (Press & Wolf,
            2017): one `vocab x embedding_dim` matrix instead of two. When `units` differs from
            `embedding_dim`, a learnt projection maps the top state to `embedding_dim` first.

    Call arguments:
        target_in: `batch x tgt_len` ids, the target shifted right (`<bos>` first).
        state: the initial state from `initial_state()`.
        source: `(memory, keys, mask)` from `prepare_source()`.

    Returns logits, `batch x tgt_len x vocab_size` (float32 even under mixed precision).
    """

    def __init__(self, vocab_size, embedding_dim=128, units=256, num_layers=1, cell="lstm",
                 dropout=0.0, attention="none", tie_embeddings=False, scaled_attention=False, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.cell = cell
        self.dropout = dropout
        self.attention = attention
        self.tie_embeddings = tie_embeddings
        self.scaled_attention = scaled_attention
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, dtype=self.dtype_policy, name="embedding"
        )
        self.rnns = [
            Recurrent(units, cell, dtype=self.dtype_policy, name=f"{cell}_{i}")
            for i in range(num_layers)
        ]
        self.drop = seeded_dropout(dropout, dtype=self.dtype_policy, name="dropout")
        if attention != "none":
            self.attend = Attention(attention, units, scaled=scaled_attention, dtype=self.dtype_policy,
                                    name="attention")
            self.combine = keras.layers.Dense(units, activation="tanh", use_bias=False,
                                              dtype=self.dtype_policy, name="attentional")
        if not tie_embeddings:
            self.output_layer = keras.layers.Dense(vocab_size, dtype="float32", name="logits")
        elif embedding_dim != units:
            self.output_projection = keras.layers.Dense(embedding_dim, use_bias=False,
                                                        dtype=self.dtype_policy, name="output_projection")

    @property
    def has_attention(self) -> bool:
        return self.attention != "none"

    def build(self, input_shape):
        self.embedding.build(input_shape)
        # Input feeding: the first layer reads [embedding; previous attentional vector].
        features = self.embedding_dim + (self.units if self.has_attention else 0)
        for rnn in self.rnns:
            rnn.build((None, None, features))
            features = self.units
        if self.has_attention:
            self.attend.build()
            self.combine.build((None, 2 * self.units))
        if not self.tie_embeddings:
            self.output_layer.build((None, None, self.units))
        else:
            if self.embedding_dim != self.units:
                self.output_projection.build((None, self.units))
            self.output_bias = self.add_weight(name="output_bias", shape=(self.vocab_size,),
                                               initializer="zeros", dtype="float32")
        self.built = True

    # ------------------------------------------------------------------ state and source
    def initial_state(self, encoder_states) -> dict:
        """The decoder state a batch starts from: the encoder's final states (+ a zero feed)."""
        state = {"layers": [tuple(s) for s in encoder_states]}
        if self.has_attention:
            state["feed"] = ops.zeros_like(encoder_states[-1][0])
        return state

    def prepare_source(self, memory, mask):
        """`(memory, keys, mask)`: what attention reads at every step, computed once per batch."""
        keys = self.attend.keys(memory) if self.has_attention else memory
        return memory, keys, mask

    # ------------------------------------------------------------------ training pass
    def call(self, target_in, state, source, training=False):
        x = self.drop(self.embedding(target_in), training=training)  # batch x tgt_len x emb
        if self.has_attention:
            x = self._attend_sequence(x, state, source, training)
        else:
            for i, (rnn, layer_state) in enumerate(zip(self.rnns, state["layers"])):
                if i > 0:
                    x = self.drop(x, training=training)
                # No mask: padding sits at the end, so it cannot reach the real steps before it.
                x, _ = rnn(x, initial_state=layer_state)  # batch x tgt_len x units
        x = self.drop(x, training=training)
        # The output layer on a flat `batch*tgt_len x units` matrix (see `matmul_2d`).
        batch, steps = ops.shape(x)[0], ops.shape(x)[1]
        logits = self.logits(ops.reshape(x, (-1, self.units)))
        return ops.reshape(logits, (batch, steps, self.vocab_size))

    def _attend_sequence(self, embedded, state, source, training):
        """The input-fed attention decoder over all target steps, in one scan."""
        first = self.rnns[0]
        # The embedding part of the first layer's input projection, for all steps at once.
        projected = ops.transpose(first.project(embedded, rows=slice(0, self.embedding_dim)), (1, 0, 2))
        steps, batch = ops.shape(projected)[0], ops.shape(projected)[1]
        # Dropout masks drawn outside the loop (random ops inside a compiled scan would repeat).
        between = [
            self.drop(ops.ones((steps, batch, self.units), embedded.dtype), training=training)
            for _ in range(self.num_layers - 1)
        ]

        def scan_step(carry, inputs):
            x_t, masks = inputs[0], inputs[1:]
            _, new_state = self._step_from_projection(x_t, carry, source, masks)
            return new_state, new_state["feed"]

        _, outputs = ops.scan(scan_step, state, (projected, *between))
        return ops.transpose(outputs, (1, 0, 2))  # batch x tgt_len x units

    # ------------------------------------------------------------------ generation step
    def step(self, token_ids, state, source, output=None):
        """Advance one token: `token_ids` is `batch`.

        Returns `(logits batch x vocab, new_state, weights)`; `weights` is the attention over the
        source (`batch x src_len`), or None without attention. With `output` (from
        `shortlist_output`), the logits are over the shortlist's words only, `batch x size`.
        """
        x = self.embedding(token_ids)  # batch x emb
        if not self.has_attention:
            new_layers = []
            for rnn, layer_state in zip(self.rnns, state["layers"]):
                x, layer_state = rnn.step(rnn.project(x), layer_state)  # batch x units
                new_layers.append(layer_state)
            return self.logits(x, output), {"layers": new_layers}, None
        projected = self.rnns[0].project(x, rows=slice(0, self.embedding_dim))
        weights, new_state = self._step_from_projection(projected, state, source, masks=())
        return self.logits(new_state["feed"], output), new_state, weights

    def logits(self, x, output=None):
        """The output layer on `rows x units` (always a 2-D product): `rows x vocab`, float32.

        With `output = (kernel, bias)` from `shortlist_output`, `rows x size` instead.
        """
        if output is None and not self.tie_embeddings:
            return self.output_layer(x)
        if self.tie_embeddings and self.embedding_dim != self.units:
            x = self.output_projection(x)  # rows x emb
        kernel, bias = output if output is not None else self._output_weights()
        # rows x in · (vocab x in)ᵀ: the product contracts the shared axis, no copy is made.
        return ops.matmul(ops.cast(x, "float32"), ops.transpose(kernel)) + bias

    def _step_from_projection(self, projected, state, source, masks):
        """One attention step; `projected` is the embedding part of layer 0's input projection.

        Returns `(attention weights, new_state)`; the new state's "feed" is the attentional vector.
        """
        memory, keys, mask = source
        first = self.rnns[0]
        feed = state["feed"]
        x_t = projected + first.project(feed, rows=slice(self.embedding_dim, None), bias=False)
        x, layer_state = first.step(x_t, state["layers"][0])
        new_layers = [layer_state]
        for i, (rnn, layer_state) in enumerate(zip(self.rnns[1:], state["layers"][1:])):
            if masks:
                x = x * masks[i]
            x, layer_state = rnn.step(rnn.project(x), layer_state)
            new_layers.append(layer_state)
        context, weights = self.attend(x, memory, keys, mask)
        attentional = self.combine(ops.concatenate([context, x], axis=-1))
        return weights, {"layers": new_layers, "feed": attentional}

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "num_layers": self.num_layers,
            "cell": self.cell,
            "dropout": self.dropout,
            "attention": self.attention,
            "tie_embeddings": self.tie_embeddings,
            "scaled_attention": self.scaled_attention,
        }
