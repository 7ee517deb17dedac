"""N-gram repeat blocking in greedy, sampling and beam search.

A stand-in model whose next-token scores depend only on the previous token makes the loop
exact: greedy search cycles "a b a b ..." for ever, and blocking must cut it where the rule says.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.beam import beam_search
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.search.greedy import greedy_search
from keras_seq2seq.search.repeats import repeated_ngram_mask
from keras_seq2seq.search.sampling import sample_search
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID

A, B, VOCAB, MAX_LEN = 4, 5, 8, 10


class CyclingModel:
    """After <bos> or b say a, after a say b; <eos> is always the second choice."""

    def __init__(self):
        table = np.full((VOCAB, VOCAB), -5.0, "float32")
        table[:, EOS_ID] = 1.0
        table[BOS_ID, A] = table[B, A] = 3.0
        table[A, B] = 3.0
        self.table = ops.convert_to_tensor(table)

    def encode(self, source_ids, max_length=None):
        batch = ops.shape(source_ids)[0]
        return ops.zeros((batch, 1)), ops.zeros((batch, 1))

    def decode_step(self, tokens, state, source):
        return ops.take(self.table, tokens, axis=0), state, ops.zeros_like(source)


SOURCES = np.array([[7, 7], [6, 0]], "int32")


def _rows(ids):
    ids = ops.convert_to_numpy(ids)
    return [[int(t) for t in row if t] for row in ids.reshape(-1, ids.shape[-1])]


def test_without_blocking_the_model_repeats_a_bigram():
    ids, _ = greedy_search(CyclingModel(), SOURCES, MAX_LEN)
    assert _rows(ids) == [[A, B] * 5] * 2


@pytest.mark.parametrize("n, expected", [(1, [A, B, EOS_ID]), (2, [A, B, A, EOS_ID]),
                                          (3, [A, B, A, B, EOS_ID])])
def test_greedy_takes_the_best_token_that_repeats_nothing(n, expected):
    ids, scores = greedy_search(CyclingModel(), SOURCES, MAX_LEN, no_repeat_ngram=n)
    assert _rows(ids) == [expected] * 2
    # Scores stay the model's log-probabilities of the chosen tokens.
    log_probs = ops.convert_to_numpy(ops.log_softmax(CyclingModel().table, axis=-1))
    previous = [BOS_ID] + expected[:-1]
    np.testing.assert_allclose(ops.convert_to_numpy(scores)[0],
                               sum(log_probs[p, t] for p, t in zip(previous, expected)), rtol=1e-5)


def test_sampling_and_beam_block_too():
    uniforms = np.zeros((2, MAX_LEN), "float32")  # always the most likely allowed token
    ids, _ = sample_search(CyclingModel(), SOURCES, uniforms, MAX_LEN, top_k=1, no_repeat_ngram=2)
    assert _rows(ids) == [[A, B, A, EOS_ID]] * 2
    ids, _ = beam_search(CyclingModel(), SOURCES, MAX_LEN, beam_size=3, no_repeat_ngram=2)
    for row in _rows(ids):
        bigrams = list(zip(row, row[1:]))
        assert len(bigrams) == len(set(bigrams)), row


def test_mask_marks_exactly_the_completing_tokens():
    output = np.array([[4, 5, 6, 4, 5, 0, 0, 0], [3, 3, 3, 0, 0, 0, 0, 0]], "int32")
    def banned(step, n):
        return [np.flatnonzero(row).tolist() for row in ops.convert_to_numpy(repeated_ngram_mask(output, step, n, 8))]
    assert banned(5, 2) == [[6], [0]]  # after "... 5": "5 6" was seen; row 2's tail is padding
    assert banned(5, 3) == [[6], []]
    assert banned(2, 2) == [[], [3]]
    assert banned(1, 2) == [[], []]  # no bigram complete yet
    assert banned(3, 1) == [[4, 5, 6], [3]]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(2)
    model = Seq2Seq(12, 9, embedding_dim=8, units=16)
    model.build()
    return model


def test_hot_sampling_and_beam_from_a_real_model_never_repeat_a_bigram(model):
    sources = np.random.default_rng(1).integers(4, 12, size=(16, 5)).astype("int32")
    hot = Generator(model, 16, SearchOptions(sampling={"temperature": 3.0}, no_repeat_ngram=2))
    outputs = [hot.generate(sources, seed=4)[0], Generator(model, 16, SearchOptions(beam_size=3, no_repeat_ngram=2, n_best=3)).generate(sources)[0]]
    for ids in outputs:
        # An untrained model may emit <pad> mid-sentence under beam search: keep it, cut at <eos>.
        for row in ids.reshape(-1, 16).tolist():
            row = row[: row.index(EOS_ID)] if EOS_ID in row else row
            bigrams = list(zip(row, row[1:]))
            assert len(set(bigrams)) == len(bigrams), row
    lengths = [row.index(EOS_ID) if EOS_ID in row else 16 for row in outputs[0].reshape(-1, 16).tolist()]
    assert max(lengths) > 8  # outputs long enough that a repeat was possible


def test_one_beam_with_blocking_is_greedy_with_blocking(model):
    sources = np.random.default_rng(3).integers(4, 12, size=(8, 6)).astype("int32")
    greedy = greedy_search(model, sources, 12, no_repeat_ngram=2)[0]
    np.testing.assert_array_equal(beam_search(model, sources, 12, 1, no_repeat_ngram=2)[0][:, 0], greedy)
    with pytest.raises(ValueError, match="no_repeat_ngram"):
        Generator(model, 16, SearchOptions(no_repeat_ngram=-1))
