"""One builder from settings and data to an untrained model bundle (Joey NMT's `build_model`).

Vocabularies (and subword tokenisers) are learnt from the training data; the network is made
from `settings.model` at the vocabularies' sizes, with the run's seed, so the same settings and
data always start from the same weights.
"""

from __future__ import annotations

import keras

from keras_seq2seq import architectures
from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.config import Settings
from keras_seq2seq.data.training_data import TrainingData


def build_model(settings: Settings, source_vocab_size: int, target_vocab_size: int) -> keras.Model:
    """The network `settings.model` describes (a `Seq2Seq` or a `Transformer`, as
    `architectures.py` decides), built, its weights drawn with the run's seed."""
    keras.utils.set_random_seed(settings.train.seed)
    return architectures.build_model(settings.model, source_vocab_size, target_vocab_size)


def build_bundle(data: TrainingData, settings: Settings) -> ModelBundle:
    """An untrained bundle: tokenisers and vocabularies from `data`, a fresh network."""
    vocabularies = data.vocabularies(settings)
    model = build_model(settings, len(vocabularies.source_vocab), len(vocabularies.target_vocab))
    return ModelBundle(model, settings, vocabularies.source_vocab, vocabularies.target_vocab,
                       vocabularies.source_tokenizer, vocabularies.target_tokenizer)
