import pytest

from keras_seq2seq import metrics


def test_exact_match():
    assert metrics.exact_match(["a b", "c ", "x"], ["a b", "c", "y"]) == pytest.approx(2 / 3)


def test_token_accuracy_penalises_missing_and_extra_tokens():
    split = str.split
    assert metrics.token_accuracy(["a b c"], ["a b c"], split) == 1.0
    assert metrics.token_accuracy(["a b"], ["a b c d"], split) == 0.5
    assert metrics.token_accuracy(["a b c d"], ["a b"], split) == 0.5
    assert metrics.token_accuracy(["x b"], ["a b"], split) == 0.5


def test_bleu_and_chrf_come_from_sacrebleu():
    hyps, refs = ["the cat sat on the mat ."], ["the cat sat on the mat ."]
    assert metrics.bleu(hyps, refs) == pytest.approx(100.0)
    assert metrics.chrf(hyps, refs) == pytest.approx(100.0)
    assert metrics.bleu(["a dog ran"], ["the cat sat on the mat ."]) < 10


def test_score_has_all_four_and_checks_lengths():
    result = metrics.score(["2021-03-03"], ["2021-03-03"], list)
    assert set(result) == {"exact_match", "token_accuracy", "bleu", "chrf"}
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        metrics.score(["a", "b"], ["a"], list)
