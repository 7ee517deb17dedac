"""Teacher-forced scores: they agree with the search's own scores, and pool into perplexity."""

import math
import random

import numpy as np
import pytest

from keras_seq2seq.scoring import perplexity
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
