import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.search.sampling import filter_probabilities, inverse_cdf_choice

PROBS = np.array([[0.5, 0.3, 0.15, 0.05]], "float32")
LOGITS = np.log(PROBS)
SOURCES = np.random.default_rng(0).integers(4, 12, size=(8, 6)).astype("int32")


def _filtered(**options):
    return ops.convert_to_numpy(filter_probabilities(LOGITS, **options))


def test_filters():
    np.testing.assert_allclose(_filtered(), PROBS, rtol=1e-5)
    np.testing.assert_allclose(_filtered(top_k=2), [[0.625, 0.375, 0, 0]], rtol=1e-5)
    np.testing.assert_allclose(_filtered(top_p=0.7), [[0.625, 0.375, 0, 0]], rtol=1e-5)
    np.testing.assert_allclose(_filtered(top_p=0.5), [[1, 0, 0, 0]], rtol=1e-5)
    np.testing.assert_allclose(_filtered(top_p=0.9), [[0.5, 0.3, 0.15, 0]] / np.float32(0.95), rtol=1e-5)
    sharp = _filtered(temperature=0.5)
    assert sharp[0, 0] > 0.5 and sharp.sum() == pytest.approx(1.0)
    flat = _filtered(temperature=10.0)
    assert np.ptp(flat) < 0.1


def test_inverse_cdf_follows_the_distribution():
    probs = np.array([[0.5, 0.3, 0.2, 0.0]] * 7, "float32")
    uniforms = np.array([0.0, 0.49, 0.5, 0.79, 0.81, 0.999999, 0.99999999], "float32")
    chosen = ops.convert_to_numpy(inverse_cdf_choice(probs, uniforms))
    assert chosen.tolist() == [0, 0, 1, 1, 2, 2, 2]  # never the zero-probability token
    grid = (np.arange(1000, dtype="float32") + 0.5) / 1000
    picks = ops.convert_to_numpy(inverse_cdf_choice(np.repeat(PROBS, 1000, 0), grid))
    np.testing.assert_allclose(np.bincount(picks, minlength=4) / 1000, PROBS[0], atol=2e-3)


def _model():
    keras.utils.set_random_seed(0)
    model = Seq2Seq(12, 9, embedding_dim=8, units=16, attention="luong-general")
    model.build()
    return model


def test_top_k_one_is_greedy_and_seeds_repeat():
    model = _model()
    greedy, _ = Generator(model, 8).generate(SOURCES)
    np.testing.assert_array_equal(Generator(model, 8, SearchOptions(sampling={"top_k": 1})).generate(SOURCES, seed=3)[0], greedy)
    hot = Generator(model, 8, SearchOptions(sampling={"temperature": 5.0}))
    a, b, c = hot.generate(SOURCES, seed=1)[0], hot.generate(SOURCES, seed=1)[0], hot.generate(SOURCES, seed=2)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, greedy)


def test_sampling_with_beams_is_refused():
    with pytest.raises(ValueError, match="beam_size must be 1 with sampling"):
        Generator(_model(), 8, SearchOptions(beam_size=3, sampling={}, n_best=3))
