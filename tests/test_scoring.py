"""Teacher-forced scores: they agree with the search's own scores, and pool into perplexity."""

import math
import random

import numpy as np
import pytest

from keras_seq2seq.scoring import perplexity, scoring_length
from keras_seq2seq.translator import Translator


@pytest.fixture(scope="module")
def reverser():
    """A tiny character model reversing letter strings (no spaces: outputs read back exactly)."""
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdef") for _ in range(rng.randint(2, 7))) for _ in range(300)]
    return Translator.train([(w, w[::-1]) for w in words], verbose=0, source_tokenizer={"kind": "char"},
                            target_tokenizer={"kind": "char"}, epochs=3, units=32, embedding_dim=16,
                            attention="luong-dot", batch_size=32, learning_rate=1e-2)


def test_perplexity_pools_tokens_not_sentences():
    # Three tokens at probabilities 1/2, 1/2 and 1/4: exp(-(ln 1/2 + ln 1/2 + ln 1/4) / 3) = 16 ** (1/3).
    assert perplexity([2 * math.log(0.5), math.log(0.25)], [2, 1]) == pytest.approx(16 ** (1 / 3))
    assert perplexity([0.0], [4]) == 1.0
    assert math.isnan(perplexity([], []))


def test_the_score_of_an_output_is_what_the_search_gave_it(reverser):
    sources = ["abc", "fed", "aabbcc", "f", "cafe", "bead", "dacbe"]
    found = reverser.translate_n_best(sources, beam_size=3, n_best=3)  # raw log-probabilities (no penalty)
    pairs = [(source, text) for source, hypotheses in zip(sources, found) for text, _ in hypotheses]
    searched = np.array([score for hypotheses in found for _, score in hypotheses])
    log_probs, tokens = reverser.log_probs(pairs, batch_size=4)  # several batches, one part-filled
    assert log_probs == pytest.approx(searched, abs=1e-4)
    assert list(tokens) == [len(text) + 1 for _, text in pairs]  # characters and <eos>


def test_a_likelier_target_scores_higher_and_perplexity_follows(reverser):
    right = [("abcd", "dcba"), ("fed", "def"), ("cab", "bac")]
    wrong = [(source, target[::-1] + "ff") for source, target in right]
    right_scores, right_tokens = reverser.log_probs(right)
    wrong_scores, wrong_tokens = reverser.log_probs(wrong)
    assert np.all(right_scores / right_tokens > wrong_scores / wrong_tokens)
    assert perplexity(right_scores, right_tokens) < perplexity(wrong_scores, wrong_tokens)


def test_scoring_lengths_climb_a_ladder_that_pads_by_at_most_half_past_two_steps():
    for step in (1, 2, 4, 8):
        lengths = [scoring_length(n, step) for n in range(1, 400)]
        assert all(n <= padded <= max(2 * step, 1.5 * n) for n, padded in zip(range(1, 400), lengths))
        assert len(set(lengths)) <= 2 * math.log2(400 / step) + 2  # two rungs per doubling


def test_scoring_pairs_of_every_length_compiles_few_programs(reverser):
    """Each compiled program keeps memory mappings for the life of the process: MMI reranking of
    a test set once compiled enough of them to hit Linux's mapping limit and die."""
    rng = random.Random(1)
    pairs = [("".join(rng.choice("abcdef") for _ in range(rng.randint(1, 40))),
              "".join(rng.choice("abcdef") for _ in range(rng.randint(1, 150)))) for _ in range(200)]
    scoring = reverser._scoring
    scoring.reset()
    log_probs, _ = scoring.log_probs(pairs, batch_size=4)  # 50 batches
    step = reverser.settings.train.length_step
    # One program per rung of the target ladder (<eos> counted): padding each batch to its own
    # lengths and rows would compile about fifty.
    rungs = len({scoring_length(len(target) + 1, step) for _, target in pairs})
    assert scoring._scorer.traced_shapes()["predict"] <= rungs <= 10
    assert np.all(np.isfinite(log_probs)) and np.all(log_probs < 0)
