"""Position encodings: the sinusoids of the paper, learnt vectors, and one step = one sequence row."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.layers.positions import Positions, sinusoidal_positions


def test_sinusoids_follow_the_formula():
    dim, half = 8, 4
    encoded = ops.convert_to_numpy(sinusoidal_positions(np.arange(50), dim))
    assert encoded.shape == (50, dim)
    for p in (0, 1, 7, 49):
        for i in range(half):
            angle = p / 10000 ** (i / (half - 1))
            assert math.isclose(encoded[p, i], math.sin(angle), abs_tol=1e-5)
            assert math.isclose(encoded[p, half + i], math.cos(angle), abs_tol=1e-5)
    assert len({tuple(np.round(row, 4)) for row in encoded}) == 50  # every position distinct


def test_an_odd_size_gets_one_zero_feature():
    encoded = ops.convert_to_numpy(sinusoidal_positions(np.arange(3), 7))
    assert encoded.shape == (3, 7)
    np.testing.assert_array_equal(encoded[:, -1], 0.0)


@pytest.mark.parametrize("kind", ["sinusoidal", "learnt"])
def test_a_step_at_position_p_adds_what_the_sequence_adds_at_p(kind):
    keras.utils.set_random_seed(0)
    layer = Positions(6, kind, max_positions=4)
    layer.build()
    embedded = np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32")
    whole = ops.convert_to_numpy(layer(embedded))
    for p in range(4):
        step = ops.convert_to_numpy(layer(embedded[:, p], positions=np.full((2,), p, "int32")))
        np.testing.assert_allclose(step, whole[:, p], rtol=1e-6, atol=1e-6)


def test_learnt_positions_past_the_table_reuse_its_last_vector():
    keras.utils.set_random_seed(0)
    layer = Positions(6, "learnt", max_positions=4)
    layer.build()
    encodings = ops.convert_to_numpy(layer.encodings(np.array([3, 4, 100])))
    np.testing.assert_array_equal(encodings[1], encodings[0])
    np.testing.assert_array_equal(encodings[2], encodings[0])
    assert [w.shape for w in layer.weights] == [(4, 6)]


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="positions must be one of"):
        Positions(6, "rotary")
