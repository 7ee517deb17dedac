"""The runtime's numpy beam search and the Keras one prune alike, on a scripted model where the
pruning rule decides the output.

The recurrent model prunes the beam by raw sums (and the runtime, which exports only it, does
too); the Transformer prunes by length-normalised scores, as OpenNMT-py does: a finished
hypothesis at its own length, a live one at its length after this step's token. Under raw sums
the scripted search below returns "a"; under normalised pruning it keeps the live "a b", which
ends with the best normalised score of all. Both searches must agree under either rule.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

from keras import ops  # noqa: E402

from keras_seq2seq.runtime.beam import beam_search as numpy_beam_search  # noqa: E402
from keras_seq2seq.search.beam import beam_search as keras_beam_search  # noqa: E402
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID, PAD_ID  # noqa: E402

A, B = 4, 5
VOCAB = 8
MAX_LEN = 5
# A prefix tree of decoder states; each node's next-token log-probabilities (the rest of the
# mass spread evenly over the other tokens). Node 0: before <bos>; 1: after <bos>; 2: "a";
# 3: "a b"; 4: anything else.
SCRIPT = {1: {EOS_ID: -1.0, A: -0.5}, 2: {EOS_ID: -0.75, B: -0.8}, 3: {EOS_ID: -0.2}}
MOVES = {(0, BOS_ID): 1, (1, A): 2, (2, B): 3}


def _tables():
    log_probs = np.full((5, VOCAB), np.log(1.0 / VOCAB), np.float32)
    for node, chosen in SCRIPT.items():
        rest = (1.0 - sum(np.exp(v) for v in chosen.values())) / (VOCAB - len(chosen))
        log_probs[node] = np.log(rest)
        for token, value in chosen.items():
            log_probs[node, token] = value
    moves = np.full((5, VOCAB), 4, np.int32)
    for (node, token), to in MOVES.items():
        moves[node, token] = to
    return log_probs, moves


class _Decoder:
    has_attention = True


class ScriptedModel:
    """The search protocol (`encode`, `decode_step`) over the scripted tree, in keras.ops."""

    decoder = _Decoder()
    prunes_by_normalised_scores = False  # the recurrent model's rule; the Transformer sets True

    def __init__(self):
        self.log_probs, self.moves = (ops.convert_to_tensor(t) for t in _tables())

    def encode(self, source_ids, max_length=None):
        rows = ops.shape(source_ids)[0]
        return ops.zeros((rows,), "int32"), ops.cast(ops.not_equal(source_ids, 0), "float32")

    def decode_step(self, token_ids, state, source):
        node = ops.take_along_axis(ops.take(self.moves, state, axis=0), ops.expand_dims(token_ids, 1), axis=1)[:, 0]
        weights = source / ops.sum(source, axis=1, keepdims=True)
        return ops.take(self.log_probs, node, axis=0), node, weights


class ScriptedGraphs:
    """The same tree as the runtime's exported graphs: each row's best tokens, best first."""

    def __init__(self):
        self.log_probs, self.moves = _tables()

    def encode(self, source_ids):
        return [np.zeros(len(source_ids), np.int32)], [(source_ids != 0).astype(np.float32)]

    def step(self, tokens, state, source, candidates, shortlist=None):
        node = self.moves[state[0], tokens]
        order = np.argsort(-self.log_probs[node], axis=1, kind="stable")[:, :candidates]
        weights = source[0] / source[0].sum(axis=1, keepdims=True)
        return np.take_along_axis(self.log_probs[node], order, axis=1), order.astype(np.int32), [node], weights


def _penalty(length: int, alpha: float) -> float:
    return ((5 + length) / 6) ** alpha


def _both(n_best: int, alpha: float, normalised: bool):
    source = np.array([[6, 7, 0]], np.int32)
    model = ScriptedModel()
    model.prunes_by_normalised_scores = normalised
    ids, scores = (ops.convert_to_numpy(x) for x in keras_beam_search(model, source, MAX_LEN, 2, alpha,
                                                                      n_best=n_best))
    runtime_ids, runtime_scores = numpy_beam_search(ScriptedGraphs(), source, MAX_LEN, 2, alpha, n_best=n_best,
                                                    normalised_pruning=normalised)
    np.testing.assert_array_equal(runtime_ids, ids)
    np.testing.assert_allclose(runtime_scores, scores, rtol=1e-6)
    return ids, scores


@pytest.mark.parametrize("n_best", [1, 2])
def test_normalised_pruning_keeps_the_live_hypothesis_that_ends_best(n_best):
    alpha = 2.0
    ids, scores = _both(n_best, alpha, normalised=True)
    # "a b" (-0.5 - 0.8 - 0.2 over 3 tokens) ranks first, above "a" (-0.5 - 0.75 over 2), which
    # raw-sum pruning returns: it keeps "a" and the empty output (-1.0 over 1 token), both ahead
    # of the live "a b" by their raw sums (-1.25 and -1.0 against -1.3).
    assert list(ids[0, 0, :3]) == [A, B, EOS_ID] and list(ids[0, 0, 3:]) == [PAD_ID] * (MAX_LEN - 3)
    np.testing.assert_allclose(scores[0, 0], -1.5 / _penalty(3, alpha), rtol=1e-6)
    if n_best == 2:
        assert list(ids[0, 1, :2]) == [A, EOS_ID]
        np.testing.assert_allclose(scores[0, 1], -1.25 / _penalty(2, alpha), rtol=1e-6)


@pytest.mark.parametrize("n_best", [1, 2])
def test_raw_sum_pruning_the_recurrent_models_rule_is_unchanged(n_best):
    alpha = 2.0
    ids, scores = _both(n_best, alpha, normalised=False)
    assert list(ids[0, 0, :2]) == [A, EOS_ID]
    np.testing.assert_allclose(scores[0, 0], -1.25 / _penalty(2, alpha), rtol=1e-6)
    if n_best == 2:  # the empty output, -1.0 at length 1
        assert list(ids[0, 1]) == [EOS_ID] + [PAD_ID] * (MAX_LEN - 1)
        np.testing.assert_allclose(scores[0, 1], -1.0, rtol=1e-6)


@pytest.mark.parametrize("normalised", [False, True])
def test_without_a_penalty_the_raw_sum_decides(normalised):
    ids, scores = _both(1, 0.0, normalised)
    assert list(ids[0, 0]) == [EOS_ID] + [PAD_ID] * (MAX_LEN - 1)  # the empty output, -1.0
    np.testing.assert_allclose(scores[0, 0], -1.0, rtol=1e-6)


def test_the_transformer_prunes_by_normalised_scores_and_the_rnn_does_not():
    from keras_seq2seq.models import Seq2Seq
    from keras_seq2seq.transformer import Transformer

    assert Transformer.prunes_by_normalised_scores is True
    assert getattr(Seq2Seq, "prunes_by_normalised_scores", False) is False
