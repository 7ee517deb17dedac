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


def test_distinct_counts_distinct_n_grams_over_all_generated_ones():
    replies = ["i do n't know .", "i do n't know .", "see you ."]
    # Unigrams: 5 + 5 + 3 = 13, of which i do n't know . see you = 7 distinct.
    assert metrics.distinct(replies, 1) == pytest.approx(7 / 13)
    # Bigrams: 4 + 4 + 2 = 10; distinct: "i do" "do n't" "n't know" "know ." "see you" "you ." = 6.
    assert metrics.distinct(replies, 2) == pytest.approx(6 / 10)
    assert metrics.distinct(["a b c"], 2) == 1.0 and metrics.distinct(["a", ""], 2) == 0.0


def test_tokens_are_sacrebleu_13a_tokens_whatever_the_spacing():
    assert metrics.distinct(["Yes.", "Yes ."], 1) == pytest.approx(2 / 4)  # "Yes" "." twice
    assert metrics.mean_length(["Yes.", "No, thanks!"]) == pytest.approx((2 + 4) / 2)
    assert metrics.top_share(["Yes.", "Yes .", " Yes . ", "No ."], top=1) == pytest.approx(3 / 4)


def test_top_share_is_the_share_taken_by_the_most_frequent_outputs():
    replies = ["a ."] * 5 + ["b ."] * 3 + [f"r{i} ." for i in range(12)]  # 20 outputs, 14 distinct
    # The ten most frequent: "a ." (5), "b ." (3) and eight singletons: 16 of 20.
    assert metrics.top_share(replies) == pytest.approx(16 / 20)
    assert metrics.top_share([f"r{i}" for i in range(40)]) == pytest.approx(10 / 40)
    assert metrics.top_share([]) == 0.0


def test_dialogue_scores_and_the_bleu_signature():
    result = metrics.dialogue_scores(["thank you .", "thank you ."], ["thank you very much .", "sure ."])
    assert set(result) == {"bleu", "distinct1", "distinct2", "mean_length", "top10_share", "target_lang",
                           "signatures"}
    assert result["target_lang"] is None and result["signatures"] == {"bleu": metrics.signatures()["bleu"]}
    assert result["distinct1"] == pytest.approx(3 / 6) and result["distinct2"] == pytest.approx(2 / 4)
    assert result["mean_length"] == 3.0 and result["top10_share"] == 1.0
    assert result["bleu"] == pytest.approx(metrics.bleu(["thank you .", "thank you ."],
                                                         ["thank you very much .", "sure ."]))
    assert metrics.signatures()["bleu"].startswith("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:")


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


def test_chinese_replies_are_counted_in_characters_and_scored_with_zh():
    replies, references = ["我喜欢猫。", "我喜欢猫。"], ["我也喜欢猫。", "好的。"]
    # zh cuts Chinese into characters: 我 喜 欢 猫 。 twice = 10 unigrams, 5 distinct.
    assert metrics.distinct(replies, 1, target_lang="zh") == pytest.approx(5 / 10)
    assert metrics.distinct(replies, 1) == pytest.approx(1 / 2)  # 13a: one word, "我喜欢猫。", twice
    assert metrics.mean_length(replies, target_lang="zh") == 5.0 and metrics.mean_length(replies) == 1.0
    result = metrics.dialogue_scores(replies, references)  # Chinese detected from the references
    assert result["target_lang"] == "zh" and result["mean_length"] == 5.0
    assert result["bleu"] == pytest.approx(metrics.bleu(replies, references, target_lang="zh"))
    assert "tok:zh" in result["signatures"]["bleu"]
    given = metrics.dialogue_scores(["I like cats."], ["I like cats too."], target_lang="cmn")
    assert given["target_lang"] == "cmn" and "tok:zh" in given["signatures"]["bleu"]
