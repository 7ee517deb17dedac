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
    assert set(result) == {"exact_match", "token_accuracy", "bleu", "chrf", "target_lang", "signatures"}
    assert result["target_lang"] is None and "tok:13a" in result["signatures"]["bleu"]
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        metrics.score(["a", "b"], ["a"], list)


def test_chinese_targets_are_scored_with_the_zh_tokenisation():
    # One wrong character out of six: 13a sees each sentence as one word (BLEU 0), zh as characters.
    hyps, refs = ["我喜欢这首歌。"], ["我喜欢那首歌。"]
    zh = metrics.bleu(hyps, refs, target_lang="zh")
    assert metrics.bleu(hyps, refs) == pytest.approx(0.0)
    assert 20 < zh < 100
    assert metrics.bleu(hyps, refs, target_lang="cmn") == pytest.approx(zh)  # Tatoeba's code too
    detected = metrics.score(hyps, refs, list)
    assert detected["target_lang"] == "zh" and detected["bleu"] == pytest.approx(zh)
    assert "tok:zh" in detected["signatures"]["bleu"]
    given = metrics.score(["I like it."], ["I like it."], str.split, target_lang="zh")
    assert "tok:zh" in given["signatures"]["bleu"]


def test_language_detection_looks_at_the_script():
    assert metrics.detect_language(["他当时一个人在家。", "這個桶有個洞。"]) == "zh"
    assert metrics.detect_language(["He was home alone.", "¿Dónde está?"]) is None
    assert metrics.detect_language(["", " "]) is None
    assert metrics.is_chinese("zh-TW") and not metrics.is_chinese("eng")
