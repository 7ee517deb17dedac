"""MMI reranking: the reverse model's scores reorder the candidates, weighted, one batch for all."""

import math

import pytest

from keras_seq2seq.data.dialogue import SEPARATOR
from keras_seq2seq.reranking import MmiReranker, last_turn


class FixedReverseScores:
    """Stands in for the reverse model: log p(turn | reply) from a table; records its calls."""

    def __init__(self, table):
        self.table = table
        self.calls = []

    def log_probs(self, pairs):
        self.calls.append(list(pairs))
        return [self.table[pair] for pair in pairs], [1] * len(pairs)


def reranker(table, weight):
    reranker = MmiReranker.__new__(MmiReranker)  # no reverse model to load
    reranker.scoring, reranker.weight = FixedReverseScores(table), weight
    return reranker


def test_the_last_turn_is_what_the_reverse_model_predicts():
    assert last_turn(f"hi{SEPARATOR}how are you ?") == "how are you ?"
    assert last_turn("hello") == "hello"


def test_generic_replies_sink_when_the_reverse_model_weighs_in():
    context = f"hello{SEPARATOR}did you see the match ?"
    turn = "did you see the match ?"
    candidates = [[("i don't know .", -2.0), ("yes , we won !", -3.0), ("the match ? yes .", -4.0)]]
    table = {("i don't know .", turn): -30.0, ("yes , we won !", turn): -12.0, ("the match ? yes .", turn): -9.0}
    # weight 0.5: -2 - 15 = -17; -3 - 6 = -9; -4 - 4.5 = -8.5
    ranked = reranker(table, 0.5).rerank([context], candidates)
    assert ranked == [[("the match ? yes .", -8.5), ("yes , we won !", -9.0), ("i don't know .", -17.0)]]
    # weight 0.1: -5; -4.2; -4.9: the beam's second choice wins
    assert [text for text, _ in reranker(table, 0.1).rerank([context], candidates)[0]] == [
        "yes , we won !", "the match ? yes .", "i don't know ."]
    # weight 0 keeps the beam's order
    assert reranker(table, 0.0).rerank([context], candidates) == candidates


def test_all_contexts_are_scored_in_one_call_and_empty_replies_go_last():
    table = {("b", "x"): -1.0, ("c", "y"): -2.0, ("d", "y"): -1.0}
    fixed = reranker(table, 1.0)
    ranked = fixed.rerank(["x", f"w{SEPARATOR}y"], [[("", 0.0), ("b", -1.0)], [("c", -1.0), ("d", -1.5)]])
    assert ranked == [[("b", -2.0), ("", -math.inf)], [("d", -2.5), ("c", -3.0)]]
    assert fixed.scoring.calls == [[("b", "x"), ("c", "y"), ("d", "y")]]
    with pytest.raises(ValueError, match="1 candidate lists for 2 contexts"):
        fixed.rerank(["x", "y"], [[("b", 0.0)]])


def test_a_negative_weight_is_refused():
    with pytest.raises(ValueError, match="must be >= 0"):
        MmiReranker(None, -1.0)
