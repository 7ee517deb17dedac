"""One builder from settings and data to an untrained model bundle (Joey NMT's `build_model`).

Vocabularies (and subword tokenisers) are learnt from the training data; the network is made
from `settings.model` at the vocabularies' sizes, with the run's seed, so the same settings and
data always start from the same weights.
"""

from __future__ import annotations

import dataclasses

import keras

from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.config import Settings
from keras_seq2seq.data.training_data import TrainingData
from keras_seq2seq.models import Seq2Seq


def build_model(settings: Settings, source_vocab_size: int, target_vocab_size: int) -> keras.Model:
    """The network `settings.model` describes, built, its weights drawn with the run's seed."""
    keras.utils.set_random_seed(settings.train.seed)
    fields = dataclasses.asdict(settings.model)
    precision = fields.pop("precision")  # a Keras dtype policy, saved with the model
    model = Seq2Seq(source_vocab_size, target_vocab_size, dtype=precision, **fields)
    model.build()
    return model


def build_bundle(data: TrainingData, settings: Settings) -> ModelBundle:
    """An untrained bundle: tokenisers and vocabularies from `data`, a fresh network."""
    vocabularies = data.vocabularies(settings)
    model = build_model(settings, len(vocabularies.source_vocab), len(vocabularies.target_vocab))
    return ModelBundle(model, settings, vocabularies.source_vocab, vocabularies.target_vocab,
                       vocabularies.source_tokenizer, vocabularies.target_tokenizer)
