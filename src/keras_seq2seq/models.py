"""The trainable encoder-decoder, and the loss and accuracy it is trained with.

`Seq2Seq` is a Keras model whose `call` is the teacher-forced pass used by `fit`. Generation does
not need another model: `encode` and `decode_step` reuse the same layers (see `search/`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_seq2seq.layers.decoder import Decoder
from keras_seq2seq.layers.encoder import Encoder
from keras_seq2seq.shapes import TracedShapes


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Seq2Seq(TracedShapes, keras.Model):
    """An RNN encoder-decoder (Sutskever et al., 2014; Cho et al., 2014).

    Args:
        source_vocab_size, target_vocab_size: vocabulary sizes (id 0 is padding in both).
        embedding_dim: embedding size on both sides.
        units: recurrent hidden size on both sides.
        num_layers: stacked recurrent layers on both sides.
        cell: `"lstm"` or `"gru"`.
        dropout: dropout rate used during training.
        attention: `"none"`, `"bahdanau"`, `"luong-dot"` or `"luong-general"` (with input feeding).
        bidirectional: a bidirectional encoder (each direction has `units / 2`).
        bridge: a learnt dense map from the encoder's final states to the decoder's.
        tie_embeddings: the output layer reuses the target embedding matrix (see `Decoder`).
        scaled_attention: Luong attention scores divided by `sqrt(units)` (see `Attention`).
        param_init: when > 0, every weight starts uniform in `[-param_init, param_init]`, as in
            OpenNMT-py, instead of the layers' own initialisers (see `build`).

    Call arguments:
        inputs: `(source_ids, target_in)`, both int `batch x len`, 0-padded; `target_in` is the
            target shifted right with `<bos>` first.

    Returns logits `batch x tgt_len x target_vocab_size`.

    Examples:
    >>> model = Seq2Seq(40, 30, embedding_dim=32, units=64)
    >>> logits = model((ops.ones((2, 7), "int32"), ops.ones((2, 5), "int32")))
    >>> tuple(logits.shape)
    (2, 5, 30)
    """

    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim=128, units=256,
                 num_layers=1, cell="lstm", dropout=0.0, attention="none", bidirectional=False,
                 bridge=False, tie_embeddings=False, scaled_attention=False, param_init=0.0, **kwargs):
        super().__init__(**kwargs)
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.cell = cell
        self.dropout = dropout
        self.attention = attention
        self.bidirectional = bidirectional
        self.bridge = bridge
        self.tie_embeddings = tie_embeddings
        self.scaled_attention = scaled_attention
        self.param_init = param_init
        self._restoring = False  # set by `from_config`: the weights will come from a file
        shared = dict(embedding_dim=embedding_dim, units=units, num_layers=num_layers, cell=cell,
                      dropout=dropout, dtype=self.dtype_policy)
        self.encoder = Encoder(source_vocab_size, name="encoder", bidirectional=bidirectional,
                               bridge=bridge, **shared)
        self.decoder = Decoder(target_vocab_size, name="decoder", attention=attention,
                               tie_embeddings=tie_embeddings, scaled_attention=scaled_attention, **shared)

    def build(self, input_shape=None):
        self.encoder.build((None, None))
        self.decoder.build((None, None))
        if self.param_init and not self._restoring:
            # OpenNMT-py's scheme. With Keras' initialisers (±0.05 embeddings, ±0.02 output
            # weights) the first Adam steps saturate the LSTMs and attention locks onto one end
            # of the source (see the `tatoeba-small` preset in config.py). Drawn with numpy
            # (seeded by `keras.utils.set_random_seed`): one `keras.random` draw per weight
            # shape compiles a program each.
            for variable in self.weights:
                variable.assign(np.random.uniform(-self.param_init, self.param_init, variable.shape)
                                .astype(variable.dtype))
        self.built = True

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """What loading a `.keras` file runs: the `param_init` draw is skipped, since the saved
        weights replace it."""
        model = super().from_config(config, custom_objects=custom_objects)
        model._restoring = True
        return model

    def call(self, inputs, training=False):
        source_ids, target_in = inputs
        state, source = self.encode(source_ids, training=training)
        return self.decoder(target_in, state, source, training=training)

    def encode(self, source_ids, max_length: int | None = None, training=False):
        """Encoder: `(decoder initial state, source)`; `source` is what attention reads.

        `max_length`, the search's length, is part of the protocol for decoders whose state
        grows with the output (the Transformer's cache); a recurrent state does not need it."""
        memory, states, mask = self.encoder(source_ids, training=training)
        return self.decoder.initial_state(states), self.decoder.prepare_source(memory, mask)

    def decode_step(self, token_ids, state, source, output=None):
        """One-step decoder: `(logits batch x vocab, new state, attention weights or None)`;
        with `output` from `decoder.shortlist_output`, the logits cover the shortlist only."""
        return self.decoder.step(token_ids, state, source, output)

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "num_layers": self.num_layers,
            "cell": self.cell,
            "dropout": self.dropout,
            "attention": self.attention,
            "bidirectional": self.bidirectional,
            "bridge": self.bridge,
            "tie_embeddings": self.tie_embeddings,
            "scaled_attention": self.scaled_attention,
            "param_init": self.param_init,
        }


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class MaskedCrossEntropy(keras.losses.Loss):
    """Mean cross-entropy over real target tokens; padding (id 0) never counts.

    The mean is over tokens, not sentences, so a batch's loss does not depend on how much
    padding it carries.
    """

    def __init__(self, label_smoothing: float = 0.0, name="masked_cross_entropy", **kwargs):
        kwargs.pop("reduction", None)  # always "sum" of the per-token mean; present in saved configs
        super().__init__(name=name, reduction="sum", **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        # -log p(y) = logsumexp(z) - z_y, and the smoothed term's mean log-probability is
        # mean(z) - logsumexp(z): written this way, no batch x len x vocab log-softmax is stored,
        # and the backward pass is one softmax (faster for loss + output layer: docs/performance.md).
        y_true = ops.cast(y_true, "int32")
        mask = ops.cast(ops.not_equal(y_true, 0), "float32")
        logits = ops.cast(y_pred, "float32")
        log_normaliser = ops.logsumexp(logits, axis=-1)
        picked = ops.take_along_axis(logits, ops.expand_dims(y_true, -1), axis=-1)[..., 0]
        nll = log_normaliser - picked
        if self.label_smoothing:
            eps = self.label_smoothing
            nll = (1.0 - eps) * nll + eps * (log_normaliser - ops.mean(logits, axis=-1))
        return ops.sum(nll * mask) / ops.maximum(ops.sum(mask), 1.0)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class MaskedAccuracy(keras.metrics.Metric):
    """Share of real target tokens predicted right (teacher forced); padding ignored."""

    def __init__(self, name="accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        mask = ops.cast(ops.not_equal(y_true, 0), "float32")
        # A hit is a target whose logit is the row's largest: one max and one gather, which run
        # far faster than an argmax over `batch x len x vocab` on CPU (see search/ranking.py).
        # (A tie for the top counts as a hit; with float logits that practically never happens.)
        logits = ops.cast(y_pred, "float32")
        picked = ops.take_along_axis(logits, ops.expand_dims(y_true, -1), axis=-1)[..., 0]
        hits = ops.cast(picked >= ops.max(logits, axis=-1), "float32")
        self.correct.assign_add(ops.sum(hits * mask))
        self.total.assign_add(ops.sum(mask))

    def result(self):
        return self.correct / ops.maximum(self.total, 1.0)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)
