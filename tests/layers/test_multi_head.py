"""Multi-head attention: the cached one-step path equals the whole-sequence path."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.layers.multi_head import MultiHeadAttention

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 5, 8)).astype("float32")
SOURCE = RNG.normal(size=(2, 4, 8)).astype("float32")
SOURCE_MASK = np.array([[True, True, True, True], [True, True, False, False]])


def _layer(cross=False):
    keras.utils.set_random_seed(2)
    layer = MultiHeadAttention(8, heads=2, cross=cross)
    layer.build()
    return layer


def test_cached_self_attention_steps_equal_causal_attention():
    layer = _layer()
    causal = np.tril(np.ones((5, 5), bool))[None, None]
    whole, whole_weights = (ops.convert_to_numpy(x) for x in layer(X, causal))
    cache = (np.zeros((2, 7, 8), "float32"), np.zeros((2, 7, 8), "float32"))  # longer than needed
    for t in range(5):
        output, weights, cache = layer.step(X[:, t], t, cache=cache)
        np.testing.assert_allclose(ops.convert_to_numpy(output), whole[:, t], rtol=1e-5, atol=1e-6)
        weights = ops.convert_to_numpy(weights)  # batch x heads x cache length
        np.testing.assert_allclose(weights[..., :5], whole_weights[:, :, t], rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(weights[..., t + 1 :], 0.0)  # the future and the empty tail


def test_cross_attention_step_equals_the_sequence_pass_and_skips_padding():
    layer = _layer(cross=True)
    memory = layer.memory(SOURCE)
    whole, whole_weights = (ops.convert_to_numpy(x) for x in layer(X, SOURCE_MASK[:, None, None], memory=memory))
    np.testing.assert_array_equal(whole_weights[1, :, :, 2:], 0.0)
    np.testing.assert_allclose(whole_weights.sum(-1), 1.0, rtol=1e-6)
    for t in range(5):
        output, weights, cache = layer.step(X[:, t], t, memory=memory, mask=SOURCE_MASK)
        assert cache is None
        np.testing.assert_allclose(ops.convert_to_numpy(output), whole[:, t], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ops.convert_to_numpy(weights), whole_weights[:, :, t], rtol=1e-5, atol=1e-7)


def test_cross_attention_needs_a_memory():
    with pytest.raises(ValueError, match="memory="):
        _layer(cross=True)(X, SOURCE_MASK[:, None, None])


def test_heads_must_divide_the_size():
    with pytest.raises(ValueError, match="multiple of the number of heads"):
        MultiHeadAttention(10, heads=4)
