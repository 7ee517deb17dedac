"""The fast argmax and the two-stage beam ranking give exactly what the plain ops give."""

import numpy as np
from keras import ops

from keras_seq2seq.search.ranking import argmax_last, best_extensions
from keras_seq2seq.text.vocabulary import PAD_ID


def test_argmax_last_matches_argmax_with_ties_and_nan():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(50, 37)).astype("float32")  # many ties
    np.testing.assert_array_equal(ops.convert_to_numpy(argmax_last(ops.convert_to_tensor(x))), x.argmax(-1))
    x[3, 5] = np.nan
    found = ops.convert_to_numpy(argmax_last(ops.convert_to_tensor(x)))
    assert 0 <= found[3] < 37


def reference_extensions(logits, scores, finished, k):
    """Every hypothesis extended by every token; the k best per sentence (the old search)."""
    batch = scores.shape[0]
    vocab = logits.shape[-1]
    log_probs = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    log_probs = log_probs.reshape(batch, k, vocab)
    pad_only = np.where(np.arange(vocab) == PAD_ID, 0.0, -1e9)
    log_probs = np.where(finished[..., None], pad_only, log_probs)
    candidates = (scores[..., None] + log_probs).reshape(batch, k * vocab)
    order = np.argsort(-candidates, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(candidates, order, 1), order // vocab, order % vocab


def test_best_extensions_equal_ranking_every_extension():
    rng = np.random.default_rng(1)
    batch, k, vocab = 6, 4, 30
    logits = rng.standard_normal((batch * k, vocab)).astype("float32") * 3
    scores = rng.standard_normal((batch, k)).astype("float32") * 2
    scores[:, 1:] -= 1e9 * (rng.random((batch, k - 1)) < 0.3)  # some dead hypotheses
    finished = rng.random((batch, k)) < 0.3
    new_scores, parent, tokens = (ops.convert_to_numpy(x) for x in best_extensions(
        ops.convert_to_tensor(logits), ops.convert_to_tensor(scores), ops.convert_to_tensor(finished), k))
    want_scores, want_parent, want_tokens = reference_extensions(logits, scores, finished, k)
    np.testing.assert_allclose(new_scores, want_scores, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(parent, want_parent)
    np.testing.assert_array_equal(tokens, want_tokens)


def test_best_extensions_with_fewer_words_than_beam_and_blocking():
    batch, k, vocab = 2, 5, 3
    logits = np.arange(batch * k * vocab, dtype="float32").reshape(batch * k, vocab) % 7
    scores = np.zeros((batch, k), "float32")
    blocked = np.zeros((batch * k, vocab), bool)
    blocked[:, 2] = True  # the best-scoring column of many rows may never be chosen
    new_scores, parent, tokens = (ops.convert_to_numpy(x) for x in best_extensions(
        ops.convert_to_tensor(logits), ops.convert_to_tensor(scores),
        ops.convert_to_tensor(np.zeros((batch, k), bool)), k, ops.convert_to_tensor(blocked)))
    assert new_scores.shape == parent.shape == tokens.shape == (batch, k)
    assert not (tokens == 2).any()
    assert (np.diff(new_scores, axis=1) <= 0).all()


def test_top_k_last_equals_top_k_on_long_rows():
    from keras_seq2seq.search.ranking import top_k_last

    rng = np.random.default_rng(2)
    for size, k in ((1000, 5), (1281, 3), (300, 1), (40, 5)):
        x = rng.standard_normal((7, size)).astype("float32")
        x[0, :] = -1e9  # a fully blocked row
        x[0, size // 2] = 0.0
        values, index = (ops.convert_to_numpy(a) for a in top_k_last(ops.convert_to_tensor(x), k))
        want = np.argsort(-x, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(index[1:], want[1:])
        assert index[0, 0] == size // 2
        np.testing.assert_allclose(values, np.take_along_axis(x, want, 1))


def test_with_a_length_penalty_pruning_ranks_by_normalised_scores():
    """A finished hypothesis of 1 token (-1.0) against a live one of 3 whose best next token
    brings it to -1.4: raw, the finished one leads; divided by GNMT's penalty at alpha 1
    ((5 + 1) / 6 = 1 and (5 + 4) / 6 = 1.5: -1.0 against -0.93), the live extension does."""
    likely = np.exp(-0.1)  # row 1's token 3: log-probability -0.1
    logits = np.log(np.array([[0.25] * 4, [(1 - likely) / 3] * 3 + [likely]], "float32"))
    scores = np.array([[-1.0, -1.3]], "float32")
    finished = np.array([[True, False]])
    raw, parent, _ = best_extensions(logits, scores, finished, 2)
    assert ops.convert_to_numpy(parent)[0, 0] == 0  # the finished one first
    divisor = np.array([[1.0, 1.5]], "float32")
    normalised, parent, tokens = (ops.convert_to_numpy(x) for x in best_extensions(logits, scores, finished, 2,
                                                                                   divisor=divisor))
    assert parent[0, 0] == 1 and tokens[0, 0] == 3
    np.testing.assert_allclose(normalised[0], [-1.4, -1.0], rtol=1e-5)  # the raw sums are kept
