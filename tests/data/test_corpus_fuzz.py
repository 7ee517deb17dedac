"""Property tests: the corpus readers take any file (see tests/fuzzing.py for the profiles).

Any bytes in any format give pairs or a CorpusError, never another exception; pairs that were
written cleanly read back unchanged.
"""

import codecs
import csv
import io

from fuzzing import examples, line_text
from hypothesis import example, given
from hypothesis import strategies as st

from keras_seq2seq.data.corpus import ReadReport, read_corpus
from keras_seq2seq.errors import CorpusError

ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "utf-8-surrogatepass"])
LINE_ENDS = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\u2028", ""])


def _encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8-surrogatepass":  # lone surrogates as (invalid) three-byte sequences
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "replace")


@st.composite
def corpus_bytes(draw) -> bytes:
    """A corpus-like file: lines of nasty text joined by separators and line ends, encoded
    somehow, sometimes with a few random bytes spliced in."""
    lines = draw(st.lists(st.lists(line_text(), min_size=1, max_size=4), max_size=8))
    separator = draw(st.sampled_from(["\t", ",", ";", " ", "\t\t", '","']))
    end = draw(LINE_ENDS)
    text = end.join(separator.join(fields) for fields in lines) + draw(LINE_ENDS)
    data = _encode(text, draw(ENCODINGS))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


ANY_FILE = corpus_bytes() | st.binary(max_size=200)
READ_OPTIONS = st.sampled_from([
    {}, {"format": "tsv"}, {"format": "anki", "source_lang": "eng"}, {"format": "anki"},
    {"format": "csv"}, {"format": "tsv", "separator": ","}, {"format": "tsv", "separator": " "},
    {"source_column": 0, "target_column": 2}, {"format": "csv", "source_column": 3, "target_column": 0},
])


def _read(path, skip, target_path=None, **options):
    report = ReadReport()
    try:
        pairs = list(read_corpus(path, target_path=target_path, skip_bad_lines=skip, report=report, **options))
    except CorpusError as error:
        assert str(error)
        return None
    assert report.read == len(pairs) > 0
    for pair in pairs:
        assert isinstance(pair.source, str) and isinstance(pair.target, str)
        assert pair.source.strip(" \t\r") == pair.source and pair.source
        assert pair.target.strip(" \t\r") == pair.target and pair.target
        assert not {"\0", "\ufeff", "\u200b"} & set(pair.source + pair.target)
    return pairs


@examples(150)
@given(data=ANY_FILE, options=READ_OPTIONS, skip=st.booleans(), suffix=st.sampled_from([".tsv", ".csv", ".txt"]))
@example(data=b"", options={"format": "tsv"}, skip=False, suffix=".tsv")
@example(data=b"a\tb\r\n\xff\xfe\tc\x00d\n", options={"format": "tsv"}, skip=True, suffix=".tsv")
@example(data=codecs.BOM_UTF16_LE + "a\tb\n".encode("utf-16-le"), options={"format": "tsv"}, skip=True,
         suffix=".tsv")
@example(data=b'"unclosed,a\nb,c\n', options={"format": "csv"}, skip=True, suffix=".csv")
@example(data=b'a,b\n"' + b"x" * 140_000 + b"\nc,d\n", options={"format": "csv"}, skip=True,
         suffix=".csv")  # a field over the csv module's 131,072-character limit
@example(data=("x" * 10_000 + "\t" + "y" * 10_000).encode(), options={"format": "tsv"}, skip=False, suffix=".tsv")
def test_any_file_in_any_format_gives_pairs_or_a_corpus_error(tmp_path, data, options, skip, suffix):
    path = tmp_path / f"corpus{suffix}"
    path.write_bytes(data)
    _read(path, skip, **options)


@examples(100)
@given(source=ANY_FILE, target=ANY_FILE, skip=st.booleans())
@example(source=b"a\n\n", target=b"b\n", skip=False)
@example(source=b"a\nb\n", target=b"c\n", skip=True)
@example(source=b"a\r\nb", target=b"c\rd\r\r\n", skip=False)
def test_any_aligned_files_give_pairs_or_a_corpus_error(tmp_path, source, target, skip):
    (tmp_path / "src.txt").write_bytes(source)
    (tmp_path / "tgt.txt").write_bytes(target)
    _read(tmp_path / "src.txt", skip, target_path=tmp_path / "tgt.txt")


# Sides a clean writer could produce: text on one line, no field separator, nothing the readers
# strip or drop by design (surrounding spaces, zero-width space, BOM), something visible.
CLEAN_SIDE = line_text().map(lambda t: "".join(c for c in t if c not in "\t\n\r\0\u200b\ufeff").strip(" \t\r"))
CLEAN_SIDE = CLEAN_SIDE.filter(lambda t: t.strip())
CLEAN_PAIRS = st.lists(st.tuples(CLEAN_SIDE, CLEAN_SIDE), min_size=1, max_size=8)


@examples(80)
@given(pairs=CLEAN_PAIRS, end=st.sampled_from(["\n", "\r\n", "\r"]), bom=st.booleans())
def test_clean_pairs_read_back_unchanged_from_tsv_csv_and_aligned_files(tmp_path, pairs, end, bom):
    start = "\ufeff" if bom else ""
    (tmp_path / "pairs.tsv").write_bytes((start + "".join(f"{s}\t{t}{end}" for s, t in pairs)).encode())
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=end).writerows([s, t] for s, t in pairs)
    (tmp_path / "pairs.csv").write_bytes((start + buffer.getvalue()).encode())
    (tmp_path / "src.txt").write_bytes((start + end.join(s for s, _ in pairs)).encode())
    (tmp_path / "tgt.txt").write_bytes(end.join(t for _, t in pairs).encode() + end.encode())

    read = {
        "tsv": read_corpus(tmp_path / "pairs.tsv"),
        "csv": read_corpus(tmp_path / "pairs.csv"),
        "aligned": read_corpus(tmp_path / "src.txt", target_path=tmp_path / "tgt.txt"),
    }
    for kind, reader in read.items():
        assert [(p.source, p.target) for p in reader] == pairs, kind
