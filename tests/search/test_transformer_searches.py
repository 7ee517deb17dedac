"""Every search policy over the Transformer, compiled, against the model's own teacher-forced pass.

The decoder's key/value cache travels through the loops like the RNN's states: reordered by
parent under beam search, gathered when finished sentences are shed. If any of that went wrong,
a hypothesis's score would stop matching the log-probability the model gives it when it reads the
whole hypothesis at once, which is what these tests compare.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.search.shortlist import Shortlist
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID
from keras_seq2seq.transformer import Transformer

MAX_LEN = 9
VOCAB = 11
SOURCES = np.array([[4, 5, 6, 0, 0], [7, 8, 9, 10, 5], [4, 0, 0, 0, 0], [6, 6, 5, 4, 0],
                    [9, 9, 0, 0, 0], [5, 4, 0, 0, 0], [10, 7, 6, 5, 0], [0, 0, 0, 0, 0]], "int32")


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(4)
    model = Transformer(12, VOCAB, units=16, num_layers=2, heads=2, dropout=0.1)
    model.build()
    # A mild push towards <eos> makes sentences end at different steps, and searches disagree.
    bias = ops.convert_to_numpy(model.decoder.output_layer.bias).copy()
    bias[EOS_ID] = 1.5
    model.decoder.output_layer.bias.assign(bias)
    return model


def _tokens(hypothesis) -> list[int]:
    hypothesis = list(hypothesis)
    return hypothesis[: hypothesis.index(EOS_ID) + 1] if EOS_ID in hypothesis else [t for t in hypothesis if t]


def _teacher_forced_scores(model, sources, hypotheses) -> np.ndarray:
    """Summed log-probability of each hypothesis (to its <eos>), from one whole-sequence pass."""
    target_in = np.zeros((len(hypotheses), MAX_LEN), "int32")
    kept = [_tokens(h) for h in hypotheses]
    for row, tokens in enumerate(kept):
        target_in[row, : len(tokens)] = [BOS_ID] + tokens[:-1]
    logits = ops.convert_to_numpy(model((np.asarray(sources, "int32"), target_in))).astype("float64")
    top = logits.max(-1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
    return np.array([sum(log_probs[row, i, t] for i, t in enumerate(tokens)) for row, tokens in enumerate(kept)])


def _real(sources):
    return [row for row in range(len(sources)) if sources[row].any()]


def test_greedy_takes_the_argmax_of_the_uncached_model_at_every_step(model):
    ids, scores = Generator(model, MAX_LEN).generate(SOURCES)
    ids, scores = ids[:, 0], scores[:, 0]
    # Greedy again in Python, re-reading the whole prefix at each step: no cache at all.
    prefix = np.full((len(SOURCES), 1), BOS_ID, "int32")
    for _ in range(MAX_LEN):
        logits = ops.convert_to_numpy(model((SOURCES, prefix)))[:, -1]
        prefix = np.concatenate([prefix, logits.argmax(-1)[:, None].astype("int32")], axis=1)
    for row in _real(SOURCES):
        assert _tokens(ids[row]) == _tokens(prefix[row, 1:])
    np.testing.assert_array_equal(ids[-1], 0)  # the empty source starts finished
    real = _real(SOURCES)
    np.testing.assert_allclose(scores[real], _teacher_forced_scores(model, SOURCES[real], ids[real]),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("alpha", [0.0, 0.6])
def test_beam_n_best_are_sorted_and_scored_as_the_model_scores_them(model, alpha):
    k = 4
    ids, scores = Generator(model, MAX_LEN, SearchOptions(beam_size=k, n_best=k, length_penalty=alpha)).generate(SOURCES)
    assert ids.shape == (len(SOURCES), k, MAX_LEN)
    real = _real(SOURCES)
    assert (np.diff(scores[real], axis=1) <= 1e-6).all()  # best first
    for row in real:
        found = [tuple(_tokens(h)) for h in ids[row]]
        assert len(set(found)) == k  # distinct hypotheses
        raw = _teacher_forced_scores(model, np.repeat(SOURCES[row : row + 1], k, 0), ids[row])
        lengths = np.array([len(t) for t in found])
        expected = raw / ((5.0 + lengths) / 6.0) ** alpha
        np.testing.assert_allclose(scores[row], expected, rtol=1e-4, atol=1e-4)
    greedy_ids, greedy_scores = Generator(model, MAX_LEN).generate(SOURCES)
    if alpha == 0.0:  # the beam's best is never worse than greedy's single path
        assert (scores[real, 0] >= greedy_scores[real, 0] - 1e-4).all()


def test_beam_one_is_greedy_and_asking_fewer_n_best_keeps_the_top_ones(model):
    greedy_ids, greedy_scores = Generator(model, MAX_LEN).generate(SOURCES)
    one_ids, one_scores = Generator(model, MAX_LEN, SearchOptions(beam_size=1)).generate(SOURCES)
    np.testing.assert_array_equal(one_ids, greedy_ids)
    all_ids, all_scores = Generator(model, MAX_LEN, SearchOptions(beam_size=4, n_best=4)).generate(SOURCES)
    two_ids, two_scores = Generator(model, MAX_LEN, SearchOptions(beam_size=4, n_best=2)).generate(SOURCES)
    np.testing.assert_array_equal(two_ids, all_ids[:, :2])
    np.testing.assert_allclose(two_scores, all_scores[:, :2], rtol=1e-5)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_shedding_finished_sentences_changes_nothing(model, beam_size):
    sources = np.concatenate([SOURCES] * 4)  # 32 rows: the batch sheds down to 8
    shed = Generator(model, MAX_LEN, SearchOptions(beam_size=beam_size, n_best=beam_size)).generate(sources)
    kept = Generator(model, MAX_LEN, SearchOptions(beam_size=beam_size, n_best=beam_size), shed=False).generate(sources)
    np.testing.assert_array_equal(shed[0], kept[0])
    np.testing.assert_allclose(shed[1], kept[1], rtol=1e-5, atol=1e-5)


def test_sampling_repeats_with_a_seed_and_scores_what_it_drew(model):
    generator = Generator(model, MAX_LEN, SearchOptions(sampling={"temperature": 1.0, "top_k": 0, "top_p": 1.0}))
    ids, scores = generator.generate(SOURCES, seed=3)
    again, _ = generator.generate(SOURCES, seed=3)
    other, _ = generator.generate(SOURCES, seed=4)
    np.testing.assert_array_equal(ids, again)
    assert (ids != other).any()
    real = _real(SOURCES)
    np.testing.assert_allclose(scores[real, 0], _teacher_forced_scores(model, SOURCES[real], ids[real, 0]),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("beam_size", [1, 3])
def test_no_repeat_ngram_blocks_repeats(model, beam_size):
    ids, _ = Generator(model, MAX_LEN, SearchOptions(beam_size=beam_size, n_best=beam_size, no_repeat_ngram=1)).generate(SOURCES)
    for hypothesis in ids.reshape(-1, MAX_LEN):
        tokens = [t for t in _tokens(hypothesis) if t != EOS_ID]
        assert len(tokens) == len(set(tokens))


@pytest.mark.parametrize("beam_size", [1, 3])
def test_a_shortlist_of_every_word_changes_nothing_and_a_short_one_stays_inside(model, beam_size):
    everything = Shortlist(np.arange(VOCAB), np.full((12, 1), -1))
    plain = Generator(model, MAX_LEN, SearchOptions(beam_size=beam_size, n_best=beam_size)).generate(SOURCES)
    listed = Generator(model, MAX_LEN, SearchOptions(beam_size=beam_size, n_best=beam_size, shortlist=VOCAB),
                       shortlist=everything).generate(SOURCES)
    np.testing.assert_array_equal(listed[0], plain[0])
    np.testing.assert_allclose(listed[1], plain[1], rtol=1e-5, atol=1e-5)
    few = Shortlist(np.array([EOS_ID, 5, 7]), np.full((12, 1), -1))
    ids, _ = Generator(model, MAX_LEN, SearchOptions(beam_size=beam_size, n_best=beam_size, shortlist=3),
                       shortlist=few).generate(SOURCES)
    assert set(np.unique(ids)) <= {0, EOS_ID, 5, 7}


@pytest.mark.parametrize("beam_size", [1, 3])
def test_attention_rows_are_the_last_blocks_cross_attention(model, beam_size):
    ids, _, attention = Generator(model, MAX_LEN, SearchOptions(beam_size=beam_size, attention=True)).generate(SOURCES)
    best, weights = ids[:, 0], attention[:, 0]  # batch x max_length x src_len
    for row in _real(SOURCES):
        steps = len(_tokens(best[row]))
        real = int((SOURCES[row] > 0).sum())
        np.testing.assert_allclose(weights[row, :steps].sum(-1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(weights[row, :, real:], 0.0)
        np.testing.assert_array_equal(weights[row, steps:], 0.0)  # nothing after <eos>
    # The same rows, step by step outside the loop, for the greedy hypothesis of sentence 1.
    if beam_size == 1:
        state, source = model.encode(SOURCES[1:2], max_length=MAX_LEN)
        tokens = [BOS_ID] + _tokens(best[1])
        for t in range(len(tokens) - 1):
            _, state, step_weights = model.decode_step(np.array([tokens[t]], "int32"), state, source)
            np.testing.assert_allclose(ops.convert_to_numpy(step_weights)[0], weights[1, t], rtol=1e-4, atol=1e-6)
