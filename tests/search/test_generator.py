"""The compiled generator: option values are inputs of one program, and every accepted value works."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import MAX_LENGTH_PENALTY, SearchOptions
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID, PAD_ID

MAX_LEN = 8
SOURCES = np.array([[4, 5, 6, 0, 0], [7, 8, 9, 10, 11], [4, 0, 0, 0, 0], [6, 6, 5, 4, 0]], "int32")


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    model = Seq2Seq(12, 9, embedding_dim=8, units=16, attention="luong-dot")
    model.build()
    bias = ops.convert_to_numpy(model.decoder.output_layer.bias).copy()
    bias[EOS_ID] = 1.0  # searches end, and disagree
    model.decoder.output_layer.bias.assign(bias)
    return model


def _traces(generator):
    return generator.traced_shapes().get("predict", 0)


def test_new_length_penalties_and_n_best_reuse_one_program(model):
    shared = Generator(model, MAX_LEN, SearchOptions(beam_size=3, n_best=1))
    for alpha in (0.0, 0.6, 2.5, MAX_LENGTH_PENALTY):
        for n_best in (1, 2, 3):
            options = SearchOptions(beam_size=3, n_best=n_best, length_penalty=alpha)
            ids, scores = shared.generate(SOURCES, options=options)
            # The same outputs as a generator made for exactly these options.
            own_ids, own_scores = Generator(model, MAX_LEN, options).generate(SOURCES)
            assert ids.shape == (len(SOURCES), n_best, MAX_LEN)
            np.testing.assert_array_equal(ids, own_ids)
            np.testing.assert_allclose(scores, own_scores, rtol=1e-6)
            assert np.isfinite(scores).all() and (scores[:3] < 0).all()
    assert _traces(shared) == 1


def test_the_length_penalty_is_applied_from_the_input(model):
    generator = Generator(model, MAX_LEN, SearchOptions(beam_size=3, n_best=3))
    _, raw = generator.generate(SOURCES)
    ids, normalised = generator.generate(SOURCES, options=SearchOptions(beam_size=3, n_best=3, length_penalty=1.0))
    lengths = np.array([[list(h).index(EOS_ID) + 1 if EOS_ID in h else MAX_LEN for h in row] for row in ids])
    assert not np.allclose(raw, normalised)
    # Each normalised score is a real score divided by GNMT's penalty for its length.
    assert (normalised[:3] * ((5 + lengths[:3]) / 6.0) < -1e-6).all()


def test_new_sampling_values_reuse_one_program(model):
    shared = Generator(model, MAX_LEN, SearchOptions(sampling={"temperature": 1.0, "top_k": 4, "top_p": 0.9}))
    for temperature, top_k, top_p in [(0.3, 2, 0.5), (1.0, 4, 0.9), (4.0, 7, 0.99)]:
        options = SearchOptions(sampling={"temperature": temperature, "top_k": top_k, "top_p": top_p})
        ids, _ = shared.generate(SOURCES, seed=3, options=options)
        np.testing.assert_array_equal(ids, Generator(model, MAX_LEN, options).generate(SOURCES, seed=3)[0])
    assert _traces(shared) == 1
    with pytest.raises(ValueError, match="another compiled program"):
        shared.generate(SOURCES, options=SearchOptions(sampling={"temperature": 1.0}))


@pytest.mark.parametrize("sampling", [
    {"temperature": 1e-30}, {"temperature": 5e-324}, {"temperature": 1e30}, {"temperature": 1.7e308},
    {"top_k": 10**30}, {"top_k": 1, "temperature": 1e30}, {"top_p": 1e-30}, {"top_p": 1e-30, "top_k": 10**9},
])
def test_every_accepted_sampling_value_gives_finite_scores_and_real_tokens(model, sampling):
    ids, scores = Generator(model, MAX_LEN, SearchOptions(sampling=sampling)).generate(SOURCES, seed=1)
    assert np.isfinite(scores).all()
    ids = ids[:, 0]
    assert not (ids == BOS_ID).any()  # a flat distribution must still never draw <bos> ...
    for row in ids:  # ... nor <pad> inside a sentence (padding only follows <eos>)
        ended = np.flatnonzero(row == EOS_ID)
        body = row[: ended[0]] if len(ended) else row
        assert (body != PAD_ID).all(), row


def test_a_cold_sample_is_the_greedy_output(model):
    greedy = Generator(model, MAX_LEN).generate(SOURCES)[0]
    cold = Generator(model, MAX_LEN, SearchOptions(sampling={"temperature": 1e-30})).generate(SOURCES, seed=9)[0]
    np.testing.assert_array_equal(cold, greedy)
