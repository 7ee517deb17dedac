"""The sample table of `evaluate` and `demo`: columns line up by display width, so a row of
Chinese (two terminal columns a character) starts its next cell where a row of English does."""

import unicodedata

from keras_seq2seq.commands.report import display_width, fit, print_samples, print_scores
from keras_seq2seq.data.corpus import Pair


def _columns_before(line: str, cell_start: str) -> int:
    """Display columns of `line` before the last occurrence of `cell_start`."""
    return display_width(line[: line.rindex(cell_start)])


def test_display_width_counts_wide_characters_twice_and_marks_not_at_all():
    assert display_width("abc") == 3
    assert display_width("你好") == 4
    assert display_width("ＡＢ") == 4  # fullwidth Latin
    assert display_width("Cafe\u0301") == 4  # e + combining acute
    assert display_width("我喜欢Python。") == 14


def test_fit_cuts_and_pads_to_an_exact_width():
    assert fit("abc", 5) == "abc  "
    assert fit("你好", 5) == "你好 "
    cut = fit("這個桶有個洞這個桶有個洞", 9)
    assert cut == "這個桶有…"  # 4 wide characters (8 columns) and "…" fill 9; a fifth would not fit
    assert display_width(cut) == 9
    assert display_width(fit("a這個桶有個洞", 6)) == 6  # never a half character over the edge


def test_sample_rows_align_with_chinese_in_any_column(capsys):
    pairs = [Pair("There is a hole in this bucket.", "這個桶有個洞。"),
             Pair("他当时一个人在家。", "He was home alone at the time."),
             Pair("我的父亲65岁的时候退休了。这是一个非常非常长的句子，要被截断。", "My father retired at 65.")]
    hypotheses = ["这个桶有个洞。", "He was alone at home.", "My father retired when he was 65."]
    print_samples(pairs, hypotheses, 3)
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    header, rows = lines[0], lines[1:]
    output_at = _columns_before(header, "output")
    reference_at = _columns_before(header, "reference")
    for row, hypothesis, pair in zip(rows, hypotheses, pairs):
        assert _columns_before(row, hypothesis) == output_at
        assert _columns_before(row, pair.target[:3]) == reference_at
        assert row.endswith("✗")
    assert "…" in rows[2]  # the long Chinese input was cut to its column
    assert unicodedata.east_asian_width(rows[0][-3]) == "W"  # ... "洞。 ✗": Chinese to the last cell


def test_scores_print_the_sacrebleu_signatures(capsys):
    print_scores({"sentences": 2, "exact_match": 0.5, "token_accuracy": 0.7, "bleu": 30.0, "chrf": 40.0,
                  "sentences_per_second": 10.0,
                  "signatures": {"bleu": "nrefs:1|case:mixed|eff:no|tok:zh|smooth:exp|version:2.6.0",
                                 "chrf": "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"}})
    out = capsys.readouterr().out
    assert "BLEU             30.0  nrefs:1|case:mixed|eff:no|tok:zh" in out
    assert "chrF             40.0  nrefs:1" in out
