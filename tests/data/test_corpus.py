"""Corpus readers: every bad input gives a CorpusError naming file and line; reading streams."""

import re
import types

import pytest

from keras_seq2seq.data import corpus
from keras_seq2seq.data.corpus import (
    Pair, ReadReport, filter_length, read_aligned, read_anki, read_corpus, read_csv, read_tsv,
)
from keras_seq2seq.errors import ConfigError, CorpusError


def write(tmp_path, name, data):
    """A file with exactly these bytes (str is UTF-8 encoded, nothing added)."""
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def texts(pairs):
    return [(p.source, p.target) for p in pairs]


# ------------------------------------------------------------------------------ missing files


@pytest.mark.parametrize("reader", [
    read_tsv, read_csv, read_anki, read_corpus,
    lambda path: read_aligned(path, path),
])
def test_missing_file_is_named(tmp_path, reader):
    path = tmp_path / "nope.tsv"
    with pytest.raises(CorpusError, match="file not found") as info:
        list(reader(path))
    assert str(path) in str(info.value) and info.value.path == str(path)


def test_missing_target_file_of_aligned_pair_is_named(tmp_path):
    source = write(tmp_path, "src.txt", "a\n")
    with pytest.raises(CorpusError, match="file not found") as info:
        read_aligned(source, tmp_path / "tgt.txt")
    assert "tgt.txt" in str(info.value)


def test_directory_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="directory"):
        list(read_tsv(tmp_path))


# --------------------------------------------------------------------------- malformed lines


def test_line_without_separator_names_file_and_line(tmp_path):
    path = write(tmp_path, "pairs.tsv", "Hello.\tHola.\nno separator here\nBye.\tAdiós.\n")
    with pytest.raises(CorpusError) as info:
        list(read_tsv(path))
    assert str(info.value) == f"{path}:2: expected at least 2 tab-separated columns, found 1"
    assert info.value.line == 2


def test_separator_is_named_readably(tmp_path):
    path = write(tmp_path, "pairs.txt", "a,b\nc\n")
    with pytest.raises(CorpusError, match="2 comma-separated columns, found 1"):
        list(read_tsv(path, separator=","))
    path = write(tmp_path, "pairs2.txt", "a|||b\nc\n")
    with pytest.raises(CorpusError, match=r"2 '\|\|\|'-separated columns"):
        list(read_tsv(path, separator="|||"))


def test_columns_beyond_the_needed_ones_are_required(tmp_path):
    path = write(tmp_path, "pairs.tsv", "a\tb\tc\nd\te\n")
    with pytest.raises(CorpusError, match=":2: expected at least 3 tab-separated columns, found 2"):
        list(read_tsv(path, source_column=2, target_column=0))


def test_empty_field_is_an_error(tmp_path):
    path = write(tmp_path, "pairs.tsv", "Hello.\tHola.\nBye.\t  \n")
    with pytest.raises(CorpusError, match=":2: empty target text in column 1"):
        list(read_tsv(path))
    path = write(tmp_path, "pairs2.tsv", "\tHola.\n")
    with pytest.raises(CorpusError, match=":1: empty source text in column 0"):
        list(read_tsv(path))


def test_negative_column_is_an_error(tmp_path):
    path = write(tmp_path, "pairs.tsv", "a\tb\n")
    with pytest.raises(CorpusError, match="0-based"):
        read_tsv(path, source_column=-1)


def test_non_utf8_bytes_name_file_line_and_byte(tmp_path):
    path = write(tmp_path, "pairs.tsv", "Hello.\tHola.\nBye.\tAdi\xf3s.\n".encode("latin-1"))
    with pytest.raises(CorpusError) as info:
        list(read_tsv(path))
    message = str(info.value)
    assert message.startswith(f"{path}:2: not valid UTF-8")
    assert "0xf3" in message and "column 9" in message and "UTF-8" in message


def test_non_utf8_column_counts_characters_not_bytes(tmp_path):
    path = write(tmp_path, "pairs.tsv", "ñ\t".encode() + b"\xff\n")
    with pytest.raises(CorpusError, match=r"byte 0xff at column 3\)"):
        list(read_tsv(path))


def test_utf16_file_is_reported_as_such(tmp_path):
    path = write(tmp_path, "pairs.tsv", "Hello.\tHola.\n".encode("utf-16"))
    with pytest.raises(CorpusError, match="UTF-16"):
        list(read_tsv(path, skip_bad_lines=True))


def test_nul_bytes_are_a_bad_line(tmp_path):
    path = write(tmp_path, "pairs.tsv", "a\tb\nc\x00\td\n")
    with pytest.raises(CorpusError, match=":2: contains NUL"):
        list(read_tsv(path))


# ------------------------------------------------------------------------------ empty corpora


def test_empty_file(tmp_path):
    path = write(tmp_path, "empty.tsv", "")
    with pytest.raises(CorpusError, match="no sentence pairs found") as info:
        list(read_tsv(path))
    assert str(info.value).startswith(f"{path}: ") and "empty" in str(info.value)


def test_only_blank_lines_is_an_empty_corpus(tmp_path):
    path = write(tmp_path, "blank.tsv", "\n   \n\t\n\r\n")
    with pytest.raises(CorpusError, match="no sentence pairs found.*blank"):
        list(read_tsv(path, skip_bad_lines=True))


def test_only_bad_lines_skipped_is_an_empty_corpus(tmp_path):
    path = write(tmp_path, "bad.tsv", "one\ntwo\n")
    report = ReadReport()
    with pytest.raises(CorpusError, match="no sentence pairs found.*2 bad lines"):
        list(read_tsv(path, skip_bad_lines=True, report=report))
    assert report.skipped == 2 and report.read == 0


@pytest.mark.parametrize("reader", [read_csv, read_anki, lambda path: read_aligned(path, path)])
def test_every_reader_rejects_an_empty_file(tmp_path, reader):
    path = write(tmp_path, "empty.txt", "")
    with pytest.raises(CorpusError, match="no sentence pairs found"):
        list(reader(path))


# ---------------------------------------------------------------------------- skipping, report


def test_skip_bad_lines_counts_and_keeps_first_five_messages(tmp_path):
    lines = ["good\tbueno"] + [f"bad {i}" for i in range(7)] + ["\tempty", "x\ty", "\n"]
    path = write(tmp_path, "pairs.tsv", ("\n".join(lines) + "\n").encode() + b"z\t\xff\n")
    report = ReadReport()
    pairs = list(read_tsv(path, skip_bad_lines=True, report=report))
    assert texts(pairs) == [("good", "bueno"), ("x", "y")]
    assert report.read == 2 and report.skipped == 9 and report.filtered == 0
    assert len(report.first_skipped) == 5
    assert report.first_skipped[0] == f"{path}:2: expected at least 2 tab-separated columns, found 1"
    assert report.summary() == "2 pairs read, 9 bad lines skipped"


def test_without_skipping_the_first_bad_line_raises(tmp_path):
    path = write(tmp_path, "pairs.tsv", "a\tb\nbad\nworse\n")
    report = ReadReport()
    with pytest.raises(CorpusError, match=":2:"):
        list(read_tsv(path, report=report))
    assert report.read == 1 and report.skipped == 0


def test_summary_wording():
    assert ReadReport(read=117376, skipped=3, filtered=12).summary() == (
        "117,376 pairs read, 3 bad lines skipped, 12 filtered by length")
    assert ReadReport(read=1, skipped=1).summary() == "1 pair read, 1 bad line skipped"
    assert ReadReport(read=5).summary() == "5 pairs read"


def test_length_filter_counts_dropped_pairs(tmp_path):
    pairs = [Pair("a b c", "x"), Pair("a", "x y z w"), Pair("a b", "x y"), Pair("a b c d", "x")]
    report = ReadReport()
    kept = list(filter_length(pairs, 3, 3, report=report))
    assert kept == [pairs[0], pairs[2]] and report.filtered == 2
    assert list(filter_length(pairs, None, None)) == pairs
    by_chars = list(filter_length(pairs, 2, None, source_length=len, report=report))
    assert by_chars == [pairs[1]] and report.filtered == 5
    with pytest.raises(ConfigError):
        filter_length(pairs, 0, None)


# ------------------------------------------------------------------------- encodings and endings


def test_crlf_and_cr_line_endings(tmp_path):
    crlf = write(tmp_path, "crlf.tsv", "Hello.\tHola.\r\nBye.\tAdiós.\r\n")
    cr = write(tmp_path, "cr.tsv", "Hello.\tHola.\rBye.\tAdiós.\r")
    expected = [("Hello.", "Hola."), ("Bye.", "Adiós.")]
    assert texts(read_tsv(crlf)) == expected
    assert texts(read_tsv(cr)) == expected
    assert [p.origin for p in read_tsv(cr)] == [f"{cr}:1", f"{cr}:2"]


def test_line_endings_split_across_read_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "_CHUNK", 3)
    path = write(tmp_path, "pairs.tsv", "ab\tc\r\nd\te\rfg\thi\r\n\r\nj\tk")
    assert [p.origin.rsplit(":", 1)[1] for p in read_tsv(path)] == ["1", "2", "3", "5"]
    assert texts(read_tsv(path)) == [("ab", "c"), ("d", "e"), ("fg", "hi"), ("j", "k")]


def test_bom_and_invisible_characters_removed_and_fields_stripped(tmp_path):
    path = write(tmp_path, "pairs.tsv", "\ufeffHello.\t Hola. \nBye\u200b now.\t Adiós\ufeff.\n")
    assert texts(read_tsv(path)) == [("Hello.", "Hola."), ("Bye now.", "Adiós.")]


def test_bom_does_not_count_as_a_column(tmp_path):
    path = write(tmp_path, "pairs.tsv", b"\xef\xbb\xbfab\t\xffc\n")
    with pytest.raises(CorpusError, match=r":1: not valid UTF-8 \(byte 0xff at column 4\)"):
        list(read_tsv(path))


def test_bom_does_not_shift_the_error_line(tmp_path):
    path = write(tmp_path, "pairs.csv", "\ufeffen,es\nHello.\n")
    with pytest.raises(CorpusError, match=":2: expected at least 2 comma-separated"):
        list(read_csv(path, has_header=True))


# ------------------------------------------------------------------------------------ formats


ANKI = ("Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #4986655 (cueyayotl)\n"
        "Hi.\tHola.\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123 (CM) & #431736 (Leono)\n")


def test_anki_other_language_to_english(tmp_path):
    path = write(tmp_path, "spa.txt", ANKI)
    assert texts(read_anki(path, source_lang="spa")) == [("Ve.", "Go."), ("Hola.", "Hi.")]


@pytest.mark.parametrize("code", ["eng", "en", "ENG"])
def test_anki_english_to_other_language(tmp_path, code):
    path = write(tmp_path, "spa.txt", ANKI)
    assert texts(read_anki(path, source_lang=code)) == [("Go.", "Ve."), ("Hi.", "Hola.")]


def test_anki_attribution_column_is_ignored(tmp_path):
    path = write(tmp_path, "spa.txt", ANKI)
    pairs = list(read_anki(path))
    assert all("CC-BY" not in p.source + p.target for p in pairs) and len(pairs) == 2


def test_anki_needs_two_columns(tmp_path):
    path = write(tmp_path, "spa.txt", "Go.\tVe.\nHi.\n")
    with pytest.raises(CorpusError, match=":2: expected at least 2 tab-separated columns, found 1"):
        list(read_anki(path))


def test_csv_quoted_comma_and_newline(tmp_path):
    path = write(tmp_path, "pairs.csv",
                 'english,spanish\n"Yes, sir.","Sí, señor."\n"Two\nlines",Dos\n"""Hi""",Hola\nx\n')
    pairs = read_csv(path, source_column=0, target_column=1, has_header=True)
    assert texts(next(pairs) for _ in range(3)) == [
        ("Yes, sir.", "Sí, señor."), ("Two\nlines", "Dos"), ('"Hi"', "Hola")]
    with pytest.raises(CorpusError, match=":6: expected at least 2 comma-separated columns"):
        next(pairs)


def test_csv_origin_is_the_line_where_the_record_starts(tmp_path):
    path = write(tmp_path, "pairs.csv", 'a,"b\nc"\r\n\r\nd,e\r\n')
    assert [p.origin for p in read_csv(path)] == [f"{path}:1", f"{path}:4"]


def test_csv_unclosed_quote_is_an_error(tmp_path):
    path = write(tmp_path, "pairs.csv", 'a,b\nc,"d\ne,f\n')
    with pytest.raises(CorpusError, match=":2: malformed CSV"):
        list(read_csv(path))


def test_aligned_files(tmp_path):
    source = write(tmp_path, "src.txt", "Hola.\r\n\nAdiós.\n")
    target = write(tmp_path, "tgt.txt", "Hello.\n\nBye.\n\n\n")  # trailing blank lines are fine
    pairs = list(read_aligned(source, target))
    assert texts(pairs) == [("Hola.", "Hello."), ("Adiós.", "Bye.")]
    assert pairs[1].origin == f"{source}:3"


def test_aligned_files_of_different_length(tmp_path):
    source = write(tmp_path, "src.txt", "a\nb\nc\n")
    target = write(tmp_path, "tgt.txt", "A\nB\nC\nD\nE\n")
    with pytest.raises(CorpusError) as info:
        list(read_aligned(source, target, skip_bad_lines=True))
    assert f"aligned files differ in length: {source} has 3 lines, {target} has 5 lines" in str(info.value)
    with pytest.raises(CorpusError, match=re.escape(f"{target} has 5 lines, {source} has 3 lines")):
        list(read_aligned(target, source))


def test_aligned_empty_side_is_a_bad_line(tmp_path):
    source = write(tmp_path, "src.txt", "a\n\nc\n")
    target = write(tmp_path, "tgt.txt", "A\nB\nC\n")
    with pytest.raises(CorpusError) as info:
        list(read_aligned(source, target))
    assert str(info.value).startswith(f"{source}:2: empty line") and str(target) in str(info.value)
    report = ReadReport()
    assert texts(read_aligned(source, target, skip_bad_lines=True, report=report)) == [("a", "A"), ("c", "C")]
    assert report.skipped == 1 and report.read == 2


def test_aligned_bad_bytes_name_the_file_they_are_in(tmp_path):
    source = write(tmp_path, "src.txt", "a\nb\n")
    target = write(tmp_path, "tgt.txt", b"A\n\xffB\n")
    with pytest.raises(CorpusError, match="not valid UTF-8") as info:
        list(read_aligned(source, target))
    assert str(info.value).startswith(f"{target}:2:")


# ---------------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("reader", [read_tsv, read_anki, read_csv, lambda path: read_aligned(path, path)])
def test_readers_are_lazy_generators(tmp_path, reader):
    path = write(tmp_path, "pairs.txt", "a\tb,c\nd\te,f\n\xff\n".encode("latin-1"))
    pairs = reader(path)
    assert isinstance(pairs, types.GeneratorType)
    assert isinstance(next(pairs), Pair)  # the bad line 3 is not read yet
    next(pairs)
    with pytest.raises(CorpusError, match=":3: not valid UTF-8"):
        next(pairs)


def test_first_pair_comes_before_the_file_is_read_through(tmp_path, monkeypatch):
    path = write(tmp_path, "big.tsv", "a\tb\n" * 10_000)  # 40 kB
    monkeypatch.setattr(corpus, "_CHUNK", 1024)
    files = []

    def recording_open(*args, **kwargs):
        files.append(open(*args, **kwargs))
        return files[-1]

    monkeypatch.setattr(corpus, "open", recording_open, raising=False)
    pairs = read_tsv(path)
    assert next(pairs) == Pair("a", "b", f"{path}:1")
    assert files[0].tell() <= 1024
    assert sum(1 for _ in pairs) == 9_999 and files[0].closed


# ------------------------------------------------------------------------------ read_corpus


def test_read_corpus_auto_dispatch(tmp_path):
    tsv = write(tmp_path, "pairs.tsv", ANKI)
    csv_file = write(tmp_path, "pairs.csv", '"Go, now.",Ve.\n')
    target = write(tmp_path, "tgt.txt", "Ve.\nHola.\n")
    source = write(tmp_path, "src.txt", "Go.\nHi.\n")
    plain = write(tmp_path, "plain.tsv", "Go.\tVe.\nHi.\tHola.\n")
    assert texts(read_corpus(plain)) == [("Go.", "Ve."), ("Hi.", "Hola.")]  # source first, as everywhere
    assert texts(read_corpus(tsv)) == [("Ve.", "Go."), ("Hola.", "Hi.")]  # recognised: English is column 0
    assert texts(read_corpus(tsv, source_lang="eng")) == [("Go.", "Ve."), ("Hi.", "Hola.")]
    assert texts(read_corpus(csv_file)) == [("Go, now.", "Ve.")]
    assert texts(read_corpus(source, target_path=target)) == [("Go.", "Ve."), ("Hi.", "Hola.")]
    semi = write(tmp_path, "pairs.csv2", "a;b\n")
    assert texts(read_corpus(semi, separator=";")) == [("a", "b")]
    assert texts(read_corpus(plain, source_column=1, target_column=0)) == [("Ve.", "Go."), ("Hola.", "Hi.")]


def test_read_corpus_explicit_format_and_report(tmp_path):
    path = write(tmp_path, "pairs.txt", '"a,b",c\nbad\n')
    report = ReadReport()
    assert texts(read_corpus(path, format="csv", skip_bad_lines=True, report=report)) == [("a,b", "c")]
    assert report.summary() == "1 pair read, 1 bad line skipped"
    assert texts(read_corpus(path, format="tsv", separator=",", source_column=0,
                             target_column=1, skip_bad_lines=True)) == [('"a', 'b"')]


def test_read_corpus_unknown_format_lists_valid_ones(tmp_path):
    path = write(tmp_path, "pairs.tsv", "a\tb\n")
    with pytest.raises(CorpusError, match="unknown corpus format 'xml'.*auto, anki, tsv, csv, aligned"):
        read_corpus(path, format="xml")


@pytest.mark.parametrize("options", [
    {"format": "csv", "source_lang": "eng"},
    {"format": "aligned"},
    {"format": "tsv", "target_path": "x.txt"},
    {"format": "anki", "separator": ","},
])
def test_read_corpus_rejects_options_the_format_would_ignore(tmp_path, options):
    path = write(tmp_path, "pairs.tsv", "a\tb\n")
    with pytest.raises(CorpusError):
        read_corpus(path, **options)


# ------------------------------------------------------------------------------ Anki recognition


def test_a_tatoeba_file_is_recognised_by_its_attribution_column_and_says_so(tmp_path):
    path = write(tmp_path, "spa.txt", ANKI)
    report = ReadReport()
    assert texts(read_corpus(path, report=report)) == [("Ve.", "Go."), ("Hola.", "Hi.")]
    assert report.reading == {"format": "anki", "source_lang": None, "source_column": 1, "target_column": 0}
    assert "recognised as a Tatoeba/Anki file" in report.notes[0] and "--source-lang eng" in report.notes[0]


@pytest.mark.parametrize("text", [
    "Go.\tVe.\nHi.\tHola.\n",  # two columns: an old release, or any TSV
    "Go.\tVe.\tsome note\n",  # a third column that is no attribution
    ANKI + "Bye.\tAdiós.\n",  # a line without the attribution among the first few
])
def test_other_files_are_read_source_first(tmp_path, text):
    path = write(tmp_path, "pairs.tsv", text)
    report = ReadReport()
    assert texts(read_corpus(path, report=report))[0] == ("Go.", "Ve.")
    assert report.reading == {"format": "tsv", "source_column": 0, "target_column": 1} and not report.notes


def test_recognition_ignores_a_line_cut_at_the_end_of_the_first_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "_CHUNK", len(ANKI) - 20)  # the second line is cut inside its attribution
    assert corpus.looks_like_anki(write(tmp_path, "spa.txt", ANKI))


def test_columns_for_an_anki_file_are_an_error(tmp_path):
    path = write(tmp_path, "spa.txt", ANKI)
    with pytest.raises(CorpusError, match="columns are for tsv and csv files, not anki.*source_lang"):
        read_corpus(path, format="anki", source_column=1)
    # Given columns, a file is read as TSV: no recognition overrides what was asked.
    assert texts(read_corpus(path, source_column=1, target_column=0)) == [("Ve.", "Go."), ("Hola.", "Hi.")]
