"""Which network a run trains: the recurrent `Seq2Seq` or the `Transformer`, from its settings.

The one place that maps `ModelSettings` to a model, so the rest of the toolkit (training, the
searches, saving and loading) deals with "a model" and never asks which kind. Settings saved
before the Transformer existed have no `architecture` key and mean "rnn" (`config.py`).
"""

from __future__ import annotations

import dataclasses

import keras

from keras_seq2seq.config import ModelSettings
from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.transformer import Transformer

MODEL_CLASSES = (Seq2Seq, Transformer)  # what a model directory may hold

# The settings each architecture reads; the others keep their defaults and mean nothing to it.
_TRANSFORMER_FIELDS = ("units", "num_layers", "heads", "ffn_dim", "decoder_layers", "dropout",
                       "attention_dropout", "pre_norm", "positions", "share_embeddings", "tie_embeddings")
_RNN_FIELDS = ("embedding_dim", "units", "num_layers", "cell", "dropout", "attention", "bidirectional",
               "bridge", "tie_embeddings", "scaled_attention", "param_init")


def build_model(settings: ModelSettings, source_vocab_size: int, target_vocab_size: int) -> keras.Model:
    """A new, built model for these settings (weights drawn from Keras' current seed)."""
    fields = dataclasses.asdict(settings)
    kind = Transformer if settings.architecture == "transformer" else Seq2Seq
    names = _TRANSFORMER_FIELDS if kind is Transformer else _RNN_FIELDS
    # `precision` is a Keras dtype policy, saved with the model.
    model = kind(source_vocab_size, target_vocab_size, dtype=settings.precision, **{n: fields[n] for n in names})
    model.build()
    return model
