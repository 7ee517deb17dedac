import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID

MAX_LEN = 8
SOURCES = np.array([[4, 5, 6, 0, 0], [7, 8, 9, 10, 11], [4, 0, 0, 0, 0], [6, 6, 5, 4, 0]], "int32")


def _model(seed=0, **options):
    keras.utils.set_random_seed(seed)
    model = Seq2Seq(12, 7, embedding_dim=8, units=16, **options)
    model.build()
    # A small vocabulary and a mild push towards <eos> make searches end and disagree.
    bias = ops.convert_to_numpy(model.decoder.output_layer.bias).copy()
    bias[EOS_ID] = 1.0
    model.decoder.output_layer.bias.assign(bias)
    return model


def _teacher_forced_scores(model, sources, hypotheses):
    """Summed log-probability of each hypothesis (up to and with its <eos>) given its source row.

    One model call for all of them (padded to one length: the decoder reads left to right, so
    padding after a hypothesis cannot change its positions).
    """
    length = hypotheses.shape[-1]
    target_in = np.zeros((len(hypotheses), length), "int32")
    kept = []
    for row, hypothesis in enumerate(hypotheses):
        tokens = list(hypothesis[: list(hypothesis).index(EOS_ID) + 1]) if EOS_ID in hypothesis else [
            t for t in hypothesis if t]
        target_in[row, : len(tokens)] = [BOS_ID] + tokens[:-1]
        kept.append(tokens)
    logits = ops.convert_to_numpy(model((np.asarray(sources, "int32"), target_in))).astype("float64")
    top = logits.max(-1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
    return [float(sum(log_probs[row, i, t] for i, t in enumerate(tokens))) for row, tokens in enumerate(kept)]


@pytest.mark.parametrize("options", [{}, {"attention": "luong-general", "bidirectional": True}])
def test_beam_one_equals_greedy(options):
    model = _model(**options)
    greedy_ids, greedy_scores = Generator(model, MAX_LEN).generate(SOURCES)
    beam_ids, beam_scores = Generator(model, MAX_LEN, SearchOptions(beam_size=1, n_best=1)).generate(SOURCES)
    np.testing.assert_array_equal(beam_ids, greedy_ids)
    np.testing.assert_allclose(beam_scores, greedy_scores, rtol=1e-5)
    # The one-beam path is literally greedy; check against a real width-1 beam as well.
    from keras_seq2seq.search.beam import beam_search
    ids, scores = beam_search(model, SOURCES, MAX_LEN, 1)
    np.testing.assert_array_equal(ops.convert_to_numpy(ids), greedy_ids)
    np.testing.assert_allclose(ops.convert_to_numpy(scores), greedy_scores, rtol=1e-5, atol=1e-5)


def test_n_best_sorted_and_scores_are_real_log_probabilities():
    model = _model(seed=2, attention="bahdanau")
    ids, scores = Generator(model, MAX_LEN, SearchOptions(beam_size=4, n_best=4)).generate(SOURCES)
    assert ids.shape == (4, 4, MAX_LEN) and scores.shape == (4, 4)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    expected = _teacher_forced_scores(model, np.repeat(SOURCES, 4, axis=0), ids.reshape(16, MAX_LEN))
    np.testing.assert_allclose(scores.reshape(16), expected, rtol=1e-4, atol=1e-4)
    for b in range(len(SOURCES)):
        # distinct hypotheses
        assert len({tuple(row) for row in ids[b]}) == 4


def test_beam_finds_at_least_the_greedy_score():
    model = _model(seed=3)
    _, greedy = Generator(model, MAX_LEN).generate(SOURCES)
    _, beam = Generator(model, MAX_LEN, SearchOptions(beam_size=5, n_best=5)).generate(SOURCES)
    assert np.all(beam[:, 0] >= greedy[:, 0] - 1e-5)


def test_batch_equals_single_and_length_penalty_reranks():
    model = _model(seed=4, attention="luong-dot")
    generator = Generator(model, MAX_LEN, SearchOptions(beam_size=3, length_penalty=1.0, n_best=3))
    ids, scores = generator.generate(SOURCES)
    for i in range(len(SOURCES)):
        one_ids, one_scores = generator.generate(SOURCES[i : i + 1])
        np.testing.assert_array_equal(one_ids[0], ids[i])
        np.testing.assert_allclose(one_scores[0], scores[i], rtol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    # Normalised scores: raw log-probability divided by ((5 + length) / 6) ** 1.
    [raw] = _teacher_forced_scores(model, SOURCES[:1], ids[:1, 0])
    length = int(np.count_nonzero(ids[0, 0]))
    assert scores[0, 0] == pytest.approx(raw / ((5 + length) / 6), rel=1e-4)


def test_all_padding_rows_produce_nothing():
    model = _model(seed=6)
    sources = np.concatenate([SOURCES[:2], np.zeros((1, SOURCES.shape[1]), "int32")])
    ids, _ = Generator(model, MAX_LEN, SearchOptions(beam_size=3, n_best=3)).generate(sources)
    assert np.all(ids[2] == 0)
    np.testing.assert_array_equal(ids[:2], Generator(model, MAX_LEN, SearchOptions(beam_size=3, n_best=3)).generate(SOURCES[:2])[0])


@pytest.mark.parametrize("alpha, n_best", [(0.0, 1), (1.0, 2)])
def test_stopping_at_n_best_gives_the_full_searchs_best(alpha, n_best):
    # A longer limit than the others: sentences settle at different steps, long before it.
    model = _model(seed=5, attention="luong-general")
    full_ids, full_scores = Generator(model, 3 * MAX_LEN, SearchOptions(beam_size=4, length_penalty=alpha, n_best=4)).generate(SOURCES)
    ids, scores = Generator(model, 3 * MAX_LEN, SearchOptions(beam_size=4, length_penalty=alpha, n_best=n_best)).generate(SOURCES)
    assert ids.shape == (len(SOURCES), n_best, 3 * MAX_LEN)
    np.testing.assert_array_equal(ids, full_ids[:, :n_best])
    np.testing.assert_allclose(scores, full_scores[:, :n_best], rtol=1e-5)


def test_settled_only_when_no_live_hypothesis_can_overtake():
    from keras_seq2seq.search.beam import _settled

    def settled(scores, finished, lengths, n_best, alpha=0.0, max_length=10, per_row=False):
        if per_row:  # n_best as the compiled program gets it: one whole number per sentence
            n_best = ops.convert_to_tensor(np.array([[n_best]], "int32"))
        out = _settled(ops.convert_to_tensor(np.array([scores], "float32")),
                       ops.convert_to_tensor(np.array([finished])),
                       ops.convert_to_tensor(np.array([lengths], "int32")), n_best,
                       ops.convert_to_tensor(np.array([[alpha]], "float32")), max_length)
        return bool(ops.convert_to_numpy(out)[0, 0])

    assert settled([-1.0, -2.0, -3.0], [True, False, False], [2, 2, 2], 1)
    assert not settled([-2.0, -1.0, -3.0], [True, False, False], [2, 2, 2], 1)  # a live one leads
    assert not settled([-1.0, -2.0, -3.0], [True, False, True], [2, 2, 2], 2)  # 2nd best still live
    assert settled([-1.0, -3.0, -2.0], [True, False, True], [2, 2, 2], 2)
    # With a length penalty, a live hypothesis may still win by growing: -1.5 / ((5+10)/6) = -0.6
    # beats -1.0 / ((5+1)/6) = -1.0, so the sentence is not settled; -3.0 / 2.5 = -1.2 could not.
    assert not settled([-1.0, -1.5], [True, False], [1, 1], 1, alpha=1.0)
    assert settled([-1.0, -3.0], [True, False], [1, 1], 1, alpha=1.0)
    for n_best, scores, finished, expected in [
            (1, [-1.0, -2.0, -3.0], [True, False, False], True),
            (2, [-1.0, -2.0, -3.0], [True, False, True], False),
            (2, [-1.0, -3.0, -2.0], [True, False, True], True),
            (3, [-1.0, -3.0, -2.0], [True, False, True], False),  # all three wanted: one is live
            (3, [-1.0, -3.0, -2.0], [True, True, True], True)]:
        assert settled(scores, finished, [2, 2, 2], n_best, per_row=True) is expected
