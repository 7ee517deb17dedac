import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.layers.attention import Attention

KINDS = ["bahdanau", "luong-dot", "luong-general"]


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    memory = rng.normal(size=(3, 6, 8)).astype("float32")
    query = rng.normal(size=(3, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]], bool)
    return query, memory, mask


def _attend(kind, query, memory, mask):
    keras.utils.set_random_seed(0)
    layer = Attention(kind, 8)
    layer.build()
    context, weights = layer(query, memory, layer.keys(memory), mask)
    return ops.convert_to_numpy(context), ops.convert_to_numpy(weights)


@pytest.mark.parametrize("kind", KINDS)
def test_padding_gets_zero_weight(kind):
    query, memory, mask = _inputs()
    context, weights = _attend(kind, query, memory, mask)
    assert weights.shape == (3, 6) and context.shape == (3, 8)
    np.testing.assert_array_equal(weights[~mask], 0.0)
    np.testing.assert_allclose(weights[:2].sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(context[2], 0.0)  # a row of padding only attends to nothing


@pytest.mark.parametrize("kind", KINDS)
def test_padded_memory_does_not_change_the_context(kind):
    query, memory, mask = _inputs(1)
    garbage = memory.copy()
    garbage[1, 3:] = 1e3  # values behind the mask
    a, _ = _attend(kind, query, memory, mask)
    b, _ = _attend(kind, query, garbage, mask)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-6)


def test_dot_scores_follow_the_query():
    memory = np.eye(4, dtype="float32")[None]  # position i is the unit vector e_i
    query = 10 * np.eye(4, dtype="float32")[[2]]
    _, weights = _attend("luong-dot", query, memory, np.ones((1, 4), bool))
    assert weights.argmax() == 2 and weights[0, 2] > 0.99


def test_unknown_kind():
    with pytest.raises(ValueError, match="attention must be one of"):
        Attention("multihead", 8)


@pytest.mark.parametrize("kind", ["luong-dot", "luong-general"])
def test_scaled_scores_are_divided_by_the_root_of_the_units(kind):
    query, memory, mask = _inputs(2)
    keras.utils.set_random_seed(0)
    layer = Attention(kind, 8, scaled=True)
    layer.build()
    _, weights = layer(query, memory, layer.keys(memory), mask)
    keys = memory if kind == "luong-dot" else memory @ ops.convert_to_numpy(layer.key_kernel)
    scores = np.einsum("bsu,bu->bs", keys, query) / np.sqrt(8)
    expected = np.exp(scores - scores.max(-1, keepdims=True)) * mask
    expected /= np.maximum(expected.sum(-1, keepdims=True), 1e-30)
    np.testing.assert_allclose(ops.convert_to_numpy(weights)[:2], expected[:2], rtol=1e-5, atol=1e-6)
    assert Attention.from_config(layer.get_config()).scaled
