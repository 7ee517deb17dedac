"""Seeded dropout: its masks follow the layer's seed state on every backend, and its seed is the
one Keras would have drawn for an unseeded layer (so JAX models train as they did before).

Run under `KERAS_BACKEND=torch` too: there an unseeded Keras `Dropout` ignores its seed state
and the replay test fails."""

import random

import keras
import numpy as np

from keras_seq2seq.layers.dropout import seeded_dropout


def _mask(layer: keras.layers.Dropout) -> np.ndarray:
    return keras.ops.convert_to_numpy(layer(np.ones((4, 64), "float32"), training=True)) != 0


def test_restoring_the_seed_state_replays_the_masks():
    layer = seeded_dropout(0.5)
    saved = keras.ops.convert_to_numpy(layer.seed_generator.state)  # what a checkpoint holds
    first, second = _mask(layer), _mask(layer)
    assert not np.array_equal(first, second)  # each call draws a new mask
    layer.seed_generator.state.assign(saved)
    np.testing.assert_array_equal(_mask(layer), first)
    np.testing.assert_array_equal(_mask(layer), second)


def test_the_seed_is_the_one_keras_draws_for_an_unseeded_layer():
    random.seed(11)
    ours = seeded_dropout(0.2)
    random.seed(11)
    unseeded = keras.layers.Dropout(0.2)
    assert ours.seed is not None and unseeded.seed is None
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours.seed_generator.state),
                                  keras.ops.convert_to_numpy(unseeded.seed_generator.state))


def test_no_dropout_draws_nothing():
    random.seed(3)
    layer = seeded_dropout(0.0)
    assert layer.seed is None and random.random() == random.Random(3).random()
