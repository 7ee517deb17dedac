"""Attention weights collected by the compiled searches: same outputs, the right rows, the right order."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID

MAX_LEN = 8
SOURCES = np.array([[4, 5, 6, 0, 0, 0], [7, 8, 9, 10, 11, 4], [4, 0, 0, 0, 0, 0],
                    [6, 6, 5, 4, 0, 0], [0, 0, 0, 0, 0, 0]], "int32")  # the last row is empty


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(5)
    model = Seq2Seq(12, 7, embedding_dim=8, units=16, attention="luong-general", bidirectional=True)
    model.build()
    # A mild push towards <eos> makes hypotheses end at different steps.
    bias = ops.convert_to_numpy(model.decoder.output_layer.bias).copy()
    bias[EOS_ID] = 1.0
    model.decoder.output_layer.bias.assign(bias)
    return model


def _teacher_forced_weights(model, sources, hypotheses):
    """Attention at every step of each hypothesis (`rows x max_len`), fed its own previous token.

    Independent of the search: the decoder is stepped along the known outputs, all rows at once.
    """
    state, source = model.encode(sources)
    previous = np.full((len(sources),), BOS_ID, "int32")
    steps = []
    for t in range(hypotheses.shape[1]):
        _, state, weights = model.decode_step(ops.convert_to_tensor(previous), state, source)
        steps.append(ops.convert_to_numpy(weights))
        previous = hypotheses[:, t].astype("int32")
    return np.stack(steps, axis=1)  # rows x max_len x src_len


def _compare(model, ids, attention, sources):
    """Each real output step's weights equal the teacher-forced ones (`ids` is `batch x max_len`)."""
    expected = _teacher_forced_weights(model, sources, ids)
    produced = ids != 0
    np.testing.assert_allclose(attention[produced], expected[produced], atol=1e-5)


def _check_rows(ids, attention, sources):
    """Rows of real outputs sum to 1 over real source positions; everything else is zero."""
    real_source = (sources != 0)[:, None, :]  # batch x 1 x src
    produced = ids != 0  # batch x max_len
    np.testing.assert_allclose(attention.sum(-1)[produced], 1.0, atol=1e-5)
    assert np.all(attention[~produced] == 0.0)
    assert np.all(np.where(real_source, 0.0, attention) == 0.0)


def test_greedy_attention_changes_nothing_else(model):
    plain_ids, plain_scores = Generator(model, MAX_LEN).generate(SOURCES)
    ids, scores, attention = Generator(model, MAX_LEN, SearchOptions(attention=True)).generate(SOURCES)
    np.testing.assert_array_equal(ids, plain_ids)
    np.testing.assert_allclose(scores, plain_scores, rtol=1e-6)
    assert attention.shape == (len(SOURCES), 1, MAX_LEN, SOURCES.shape[1])
    _check_rows(ids[:, 0], attention[:, 0], SOURCES)
    _compare(model, ids[:, 0], attention[:, 0], SOURCES)


def test_beam_attention_follows_each_hypothesis_through_reordering(model):
    # A length penalty re-ranks the finished beam at the end: a second reordering to follow.
    plain_ids, plain_scores = Generator(model, MAX_LEN, SearchOptions(beam_size=3, length_penalty=1.0, n_best=3)).generate(SOURCES)
    generator = Generator(model, MAX_LEN, SearchOptions(beam_size=3, length_penalty=1.0, attention=True, n_best=3))
    ids, scores, attention = generator.generate(SOURCES)
    np.testing.assert_array_equal(ids, plain_ids)
    np.testing.assert_allclose(scores, plain_scores, rtol=1e-6)
    assert attention.shape == (len(SOURCES), 3, MAX_LEN, SOURCES.shape[1])
    for n in range(3):
        _check_rows(ids[:, n], attention[:, n], SOURCES)
    for b in range(len(SOURCES) - 1):
        assert len({tuple(row) for row in ids[b]}) == 3  # distinct hypotheses, distinct histories
    # All hypotheses of all sentences as rows: sentence b's source repeated for each of its 3.
    _compare(model, ids.reshape(-1, MAX_LEN), attention.reshape(-1, MAX_LEN, SOURCES.shape[1]),
             np.repeat(SOURCES, 3, axis=0))


def test_sampling_attention_changes_nothing_else(model):
    sampling = {"temperature": 1.5}
    plain_ids, _ = Generator(model, MAX_LEN, SearchOptions(sampling=sampling)).generate(SOURCES, seed=3)
    ids, _, attention = Generator(model, MAX_LEN, SearchOptions(sampling=sampling, attention=True)).generate(SOURCES, seed=3)
    np.testing.assert_array_equal(ids, plain_ids)
    _check_rows(ids[:, 0], attention[:, 0], SOURCES)


def test_model_without_attention_is_a_clear_error():
    model = Seq2Seq(12, 7, embedding_dim=8, units=16)
    model.build()
    with pytest.raises(Seq2SeqError, match="no attention"):
        Generator(model, MAX_LEN, SearchOptions(attention=True))
