"""Splits: de-duplicated, seeded, disjoint, sized as asked, and byte-identical when repeated."""

import random

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.data.splits import split_file, split_lines, unique_lines
from keras_seq2seq.errors import CorpusError


def _pair_file(path, count=60, duplicates=5):
    lines = [f"English {i}.\tOtro {i}.\tCC-BY 2.0 (France) Attribution: tatoeba.org #{i}" for i in range(count)]
    # Exact repeats of the (english, other) pair, with a different attribution: duplicates.
    lines += [f"English {i}.\tOtro {i}.\tanother attribution" for i in range(duplicates)]
    # Same English, other translation: not a duplicate.
    lines += ["English 0.\tOtra traducción 0.", "", "   "]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dedup_keeps_first_occurrence_and_ignores_the_attribution(tmp_path):
    lines, read = unique_lines(_pair_file(tmp_path / "spa.txt"))
    assert read == 66 and len(lines) == 61
    assert lines[0].endswith("tatoeba.org #0")  # the first of the two "English 0./Otro 0." lines
    assert "English 0.\tOtra traducción 0." in lines


def test_split_is_the_documented_rule(tmp_path):
    lines = [f"e{i}\to{i}" for i in range(50)]
    splits = split_lines(lines, dev_size=5, test_size=4, held_out_size=3, seed=11)
    expected = list(lines)
    random.Random(11).shuffle(expected)
    assert splits["dev"] == expected[:5] and splits["test"] == expected[5:9]
    assert splits["held-out"] == expected[9:12] and splits["train"] == expected[12:]


def test_files_are_disjoint_sized_and_deterministic(tmp_path, capsys):
    source = _pair_file(tmp_path / "spa.txt")
    args = ["data", "split", str(source), "--dev-size", "7", "--test-size", "6", "--held-out-size", "5"]
    assert main(args + ["--to", str(tmp_path / "a")]) == 0
    assert "66 lines, 5 duplicate pairs dropped, 61 kept: dev 7, test 6, held-out 5, train 43" in capsys.readouterr().out
    assert main(args + ["--to", str(tmp_path / "b")]) == 0
    seen = set()
    for name, size in (("train", 43), ("dev", 7), ("test", 6), ("held-out", 5)):
        a = (tmp_path / "a" / f"{name}.tsv").read_bytes()
        assert a == (tmp_path / "b" / f"{name}.tsv").read_bytes()
        pairs = {tuple(line.split("\t")[:2]) for line in a.decode().splitlines()}
        assert len(pairs) == size and not pairs & seen
        seen |= pairs
    assert len(seen) == 61
    assert main(args + ["--to", str(tmp_path / "c"), "--seed", "1"]) == 0
    assert (tmp_path / "c" / "dev.tsv").read_bytes() != (tmp_path / "a" / "dev.tsv").read_bytes()


def test_lines_are_written_exactly_as_read(tmp_path):
    # U+2028 and U+0085 are not line ends in these files; a no-break space is text.
    odd = "Wait\u2028here.\tEspera\u0085aquí\u00a0!"
    (tmp_path / "pairs.tsv").write_text(f"a\tb\n{odd}\nc\td\n", encoding="utf-8")
    report = split_file(tmp_path / "pairs.tsv", tmp_path / "out", 1, 0, 0, seed=0)
    written = "".join((tmp_path / "out" / f"{n}.tsv").read_text(encoding="utf-8") for n in ("dev", "train"))
    assert sorted(written.split("\n")[:-1]) == sorted(["a\tb", odd, "c\td"])
    assert "held-out" not in report.files


def test_errors_name_the_problem(tmp_path, capsys):
    (tmp_path / "one.tsv").write_text("a\tb\nno tab here\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"one.tsv:2: expected at least 2 tab-separated columns"):
        unique_lines(tmp_path / "one.tsv")
    with pytest.raises(CorpusError, match="leave none for training"):
        split_lines(["a\tb"] * 3, 1, 1, 1)
    assert main(["data", "split", str(tmp_path / "missing.tsv"), "--to", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error:") and "missing.tsv: corpus file not found" in err
