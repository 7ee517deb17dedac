import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.beam import beam_search
from keras_seq2seq.search.compaction import phase_sizes, shrinking_while_loop
from keras_seq2seq.search.greedy import greedy_search
from keras_seq2seq.search.sampling import sample_search
from keras_seq2seq.text.vocabulary import EOS_ID

ROWS = 32
MAX_LEN = 14


def test_phase_sizes_shrink_to_a_quarter_down_to_the_minimum():
    assert phase_sizes(64) == [64, 16]
    assert phase_sizes(48) == [48, 12]
    assert phase_sizes(31) == [31, 8]
    assert phase_sizes(16) == [16]
    assert phase_sizes(3) == [3]
    assert phase_sizes(64, min_rows=64) == [64]


def _count_down(lengths, min_rows):
    """Each row runs `length` steps; it records its last step and the rows it shared steps with."""
    lengths = ops.convert_to_tensor(np.asarray(lengths, "int32"))
    carried = (ops.zeros((len(lengths),), "int32"), ops.zeros((len(lengths),), "int32"),
               ops.zeros((len(lengths),), "bool"))

    def advance(step, carried, lengths):
        last, work, done = carried
        rows = ops.shape(lengths)[0]
        last = ops.where(done, last, step)
        work = work + ops.where(done, 0, rows)
        return last, work, ops.logical_or(done, step + 1 >= lengths)

    step, (last, work, done) = shrinking_while_loop(
        lambda step, carried: step < 100, advance, ops.convert_to_tensor(0, "int32"), carried,
        lengths, finished=lambda carried: carried[2], min_rows=min_rows)
    return int(step), *(ops.convert_to_numpy(x) for x in (last, work, done))


def test_rows_come_back_in_order_and_finished_rows_stop_costing_work():
    lengths = np.random.default_rng(0).integers(1, 12, ROWS)
    lengths[5] = 40  # one straggler
    step, last, work, done = _count_down(lengths, min_rows=4)
    assert step == 40 and done.all()
    np.testing.assert_array_equal(last, lengths - 1)
    # Without shedding, every step of the straggler costs all 32 rows; with it, its steps after
    # the others have ended run in a phase of 8 rows.
    _, _, full_work, _ = _count_down(lengths, min_rows=ROWS)
    assert full_work[5] == 40 * ROWS
    assert work[5] <= 11 * ROWS + 29 * 8
    assert (work <= full_work).all()


class EndsAtSourceLength:
    """A tiny real model whose sentences end after as many steps as their source has tokens.

    Random weights alone make every sentence run to the limit (or none do); the real model's
    states and encoder output still travel through the search, so shedding must move them right.
    """

    def __init__(self, **options):
        keras.utils.set_random_seed(3)
        self.model = Seq2Seq(20, 12, embedding_dim=8, units=16, **options)
        self.model.build()
        self.decoder = self.model.decoder

    def encode(self, source_ids, max_length=None):
        state, source = self.model.encode(source_ids, max_length=max_length)
        length = ops.sum(ops.cast(ops.not_equal(source_ids, 0), "int32"), axis=-1)
        return (state, ops.zeros_like(length)), (source, length)

    def decode_step(self, tokens, state, source, *words):
        (state, count), (source, length) = state, source
        logits, state, weights = self.model.decode_step(tokens, state, source, *words)
        at_end = ops.expand_dims(count + 1 >= length, -1) & (ops.arange(12) == EOS_ID)
        return ops.where(at_end, 100.0, logits), (state, count + 1), weights


def _model(**options):
    return EndsAtSourceLength(**options)


def _sources():
    rng = np.random.default_rng(1)
    sources = rng.integers(4, 20, (ROWS, 12)).astype("int32")
    for row, length in enumerate(rng.integers(1, 7, ROWS)):
        sources[row, length:] = 0
    sources[0, :] = 7  # one straggler, stopped by the length limit
    sources[-3:] = 0  # filler rows of a short batch
    return sources


OPTIONS = [{}, {"attention": "luong-general", "bidirectional": True}]


@pytest.mark.parametrize("options", OPTIONS)
def test_greedy_output_does_not_depend_on_shedding(options):
    model, sources = _model(**options), _sources()
    shed = greedy_search(model, sources, MAX_LEN, return_attention=bool(options), min_rows=4)
    kept = greedy_search(model, sources, MAX_LEN, return_attention=bool(options), min_rows=ROWS)
    lengths = (ops.convert_to_numpy(kept[0]) == EOS_ID).argmax(-1)
    assert len(set(lengths.tolist())) > 3  # the test means something only if lengths differ
    for a, b in zip(shed, kept):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-5)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("n_best", [1, 3])
def test_beam_output_does_not_depend_on_shedding(options, n_best):
    model, sources = _model(**options), _sources()
    shed = beam_search(model, sources, MAX_LEN, 3, 0.6, n_best=n_best, min_rows=4,
                       return_attention=bool(options))
    kept = beam_search(model, sources, MAX_LEN, 3, 0.6, n_best=n_best, min_rows=ROWS,
                       return_attention=bool(options))
    for a, b in zip(shed, kept):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), atol=1e-5)


def test_sampling_draws_follow_their_sentences():
    model, sources = _model(), _sources()
    uniforms = np.random.default_rng(2).random((ROWS, MAX_LEN), np.float32)
    shed = sample_search(model, sources, uniforms, MAX_LEN, temperature=1.5, min_rows=4)
    kept = sample_search(model, sources, uniforms, MAX_LEN, temperature=1.5, min_rows=ROWS)
    np.testing.assert_array_equal(ops.convert_to_numpy(shed[0]), ops.convert_to_numpy(kept[0]))
