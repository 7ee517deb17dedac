"""Streaming readers for parallel corpora: Tatoeba/Anki, TSV, CSV and aligned plain-text files.

Columns are read source first (column 0 -> column 1), as other toolkits read a two-column
file. Tatoeba/Anki files (manythings.org) put English first whatever the pair; they are read as
such with format "anki" or a `source_lang`, or when recognised by their third column, a
Tatoeba attribution (`CC-BY 2.0 (France) Attribution: tatoeba.org #...`, see `looks_like_anki`).

Real corpora are large and messy, so the readers stream (constant memory), decode bytes themselves
(a bad byte is reported with file, line and column) and treat every malformed line alike: a
CorpusError naming "path:line", or with skip_bad_lines=True a count in a ReadReport, never a silent
drop. Arguments and the file's existence are checked on the call, everything else while iterating.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Callable, Iterable, Iterator

from keras_seq2seq.errors import ConfigError, CorpusError

FORMATS = ("auto", "anki", "tsv", "csv", "aligned")
MAX_SKIPPED_MESSAGES = 5
_CHUNK = 1 << 16  # bytes per read; lines are cut from these chunks
# Invisible characters that would become tokens of their own (ZWJ/ZWNJ are kept: they are spelling).
_INVISIBLE = str.maketrans("", "", "\u200b\ufeff")
_FIELD_STRIP = " \t\r"  # only plain spaces: a no-break space may be meaningful text
_SEPARATOR_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe", " ": "space"}
_PathLike = str | os.PathLike
# The third column of a Tatoeba/Anki line: "CC-BY 2.0 (France) Attribution: tatoeba.org #123 (me) & #456 (you)".
_ANKI_ATTRIBUTION = re.compile(r"CC-BY\b.*\btatoeba\.org #\d+", re.IGNORECASE)
_SNIFF_LINES = 5  # non-blank lines looked at to recognise a Tatoeba/Anki file


@dataclass(frozen=True)
class Pair:
    """One source/target example; `origin` ("path:line") lets later errors point into the corpus."""
    source: str
    target: str
    origin: str = ""


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


@dataclass
class ReadReport:
    """Counts a reader fills in while streaming (so a CLI can print them afterwards)."""
    read: int = 0
    skipped: int = 0
    filtered: int = 0
    first_skipped: list[str] = field(default_factory=list)
    # How the file was read: {"format", "source_lang", "source_column", "target_column"} (for the
    # model's record, so that its test data can be read alike), and a note when it was guessed.
    reading: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line such as "117,376 pairs read, 3 bad lines skipped, 12 filtered by length"."""
        parts = [f"{_plural(self.read, 'pair')} read"]
        if self.skipped:
            parts.append(f"{_plural(self.skipped, 'bad line')} skipped")
        if self.filtered:
            parts.append(f"{self.filtered:,} filtered by length")
        return ", ".join(parts)


class _Reading:
    """One file being read: its decoded lines, the skip-or-raise policy, counts for the end check."""
    def __init__(self, path: _PathLike, skip_bad_lines: bool, report: ReadReport | None,
                 columns: tuple[int, ...] = ()):
        self.path = os.fspath(path)
        if any(not isinstance(column, int) or column < 0 for column in columns):
            raise CorpusError(f"column numbers are 0-based and not negative, got {columns}", path=path)
        if Path(path).is_dir():
            raise CorpusError("is a directory, not a corpus file", path=self.path)
        if not Path(path).exists():
            raise CorpusError("file not found", path=self.path)
        self.skip = skip_bad_lines
        self.report = report if report is not None else ReadReport()
        self.line_count = self.pairs = self.skipped = 0

    def lines(self) -> Iterator[tuple[int, str, str]]:
        """(line number, text, error) per physical line; text is "" when error says why not."""
        for number, raw in enumerate(self._raw_lines(), 1):
            self.line_count = number
            raw = raw.rstrip(b"\r\n")
            if number == 1 and raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise CorpusError("the file is UTF-16; re-encode it as UTF-8", path=self.path, line=1)
            raw = raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw
            try:
                text, error = raw.decode("utf-8"), ""
            except UnicodeDecodeError as bad:
                column = len(raw[: bad.start].decode("utf-8")) + 1  # in characters, as editors count
                text, error = "", (f"not valid UTF-8 (byte 0x{raw[bad.start]:02x} at column {column}); "
                                   "re-encode the file as UTF-8")
            if "\0" in text:
                text, error = "", "contains NUL bytes; is this a binary or UTF-16 file?"
            yield number, text.translate(_INVISIBLE), error

    def _raw_lines(self) -> Iterator[bytes]:
        """Physical lines ending in \\n, \\r\\n or \\r, cut from fixed-size chunks."""
        try:
            file = open(self.path, "rb")
        except FileNotFoundError:  # removed since the check in __init__
            raise CorpusError("file not found", path=self.path) from None
        except OSError as error:
            raise CorpusError(f"cannot open: {error.strerror}", path=self.path) from None
        with file:
            pending = b""
            while chunk := file.read(_CHUNK):
                lines = (pending + chunk).splitlines(keepends=True)
                pending = lines.pop()  # may be incomplete, or a "\r" whose "\n" is in the next chunk
                yield from lines
            if pending:
                yield pending

    def bad(self, message: str, line: int | None, path: str | None = None) -> None:
        """Raise for a bad line, or count it (keeping the first few messages) when skipping."""
        error = CorpusError(message, path=path or self.path, line=line)
        if not self.skip:
            raise error
        self.skipped += 1
        self.report.skipped += 1
        if len(self.report.first_skipped) < MAX_SKIPPED_MESSAGES:
            self.report.first_skipped.append(str(error))

    def pair(self, source: str, target: str, line: int) -> Pair:
        self.pairs += 1
        self.report.read += 1
        return Pair(source, target, f"{self.path}:{line}")

    def pick(self, fields: list[str], line: int, source_column: int, target_column: int,
             kind: str) -> Pair | None:
        """The pair in a record's fields, or None after reporting a short or empty record."""
        needed = max(source_column, target_column) + 1
        if len(fields) < needed:
            self.bad(f"expected at least {needed} {kind}-separated columns, found {len(fields)}", line)
            return None
        source, target = fields[source_column].strip(_FIELD_STRIP), fields[target_column].strip(_FIELD_STRIP)
        for side, text, column in (("source", source, source_column), ("target", target, target_column)):
            if not text:
                self.bad(f"empty {side} text in column {column}", line)
                return None
        return self.pair(source, target, line)

    def finish(self) -> None:
        """At the end of the file: an empty corpus is an error, not an empty training set."""
        if not self.pairs:
            why = ("the file is empty" if self.line_count == 0 else "only blank lines" if not self.skipped
                   else f"{_plural(self.skipped, 'bad line')} skipped and no good ones")
            raise CorpusError(f"no sentence pairs found ({why})", path=self.path)


def read_tsv(path: _PathLike, source_column: int = 0, target_column: int = 1, separator: str = "\t",
             skip_bad_lines: bool = False, report: ReadReport | None = None) -> Iterator[Pair]:
    """Pairs from delimited text (0-based columns; extra columns ignored, no quoting)."""
    if not separator:
        raise CorpusError("the separator must not be empty", path=path)
    reading = _Reading(path, skip_bad_lines, report, (source_column, target_column))
    return _tsv_pairs(reading, source_column, target_column, separator)


def _tsv_pairs(reading: _Reading, source_column: int, target_column: int, separator: str) -> Iterator[Pair]:
    kind = _SEPARATOR_NAMES.get(separator, repr(separator))
    for number, text, error in reading.lines():
        if error:
            reading.bad(error, number)
        elif text.strip():
            pair = reading.pick(text.split(separator), number, source_column, target_column, kind)
            if pair is not None:
                yield pair
    reading.finish()


def read_anki(path: _PathLike, source_lang: str = "spa", skip_bad_lines: bool = False,
              report: ReadReport | None = None) -> Iterator[Pair]:
    """Tatoeba/Anki `english<TAB>other[<TAB>attribution]`; source_lang "eng" means English→other."""
    code = (source_lang or "").strip().lower()
    if not code:
        raise CorpusError("source_lang must be a language code such as spa or eng", path=path)
    columns = (0, 1) if code in ("eng", "en", "english") else (1, 0)  # column 0 is always English
    return read_tsv(path, *columns, "\t", skip_bad_lines, report)


def read_csv(path: _PathLike, source_column: int = 0, target_column: int = 1,
             skip_bad_lines: bool = False, report: ReadReport | None = None,
             has_header: bool = False) -> Iterator[Pair]:
    """Pairs from real CSV (quoted commas and newlines); errors give the record's first line."""
    reading = _Reading(path, skip_bad_lines, report, (source_column, target_column))
    return _csv_pairs(reading, source_column, target_column, has_header)


def _csv_pairs(reading: _Reading, source_column: int, target_column: int, has_header: bool) -> Iterator[Pair]:
    consumed: list[int] = []  # line numbers the csv module took for the current record

    def good_lines() -> Iterator[str]:
        for number, text, error in reading.lines():
            if error:
                reading.bad(error, number)
            else:
                consumed.append(number)
                yield text + "\n"  # the csv module needs the newline to keep it inside quotes

    records = csv.reader(good_lines(), strict=True)  # strict: an unclosed quote is an error
    while True:
        consumed.clear()
        try:
            fields = next(records)
        except StopIteration:
            break
        except csv.Error as error:
            reading.bad(f"malformed CSV: {error}", consumed[0] if consumed else None)
            continue
        if not any(value.strip() for value in fields):
            continue
        if has_header:
            has_header = False
            continue
        pair = reading.pick(fields, consumed[0], source_column, target_column, "comma")
        if pair is not None:
            yield pair
    reading.finish()


def read_aligned(source_path: _PathLike, target_path: _PathLike, skip_bad_lines: bool = False,
                 report: ReadReport | None = None) -> Iterator[Pair]:
    """Pairs from two plain-text files, line i of one aligned with line i of the other. Unequal
    lengths (trailing blank lines aside) mean misalignment: always an error, raised at the end."""
    source = _Reading(source_path, skip_bad_lines, report)
    return _aligned_pairs(source, _Reading(target_path, skip_bad_lines, source.report))


def _aligned_pairs(source: _Reading, target: _Reading) -> Iterator[Pair]:
    extra_text = False
    for left, right in zip_longest(source.lines(), target.lines()):
        if left is None or right is None:
            _, text, error = left or right
            extra_text = extra_text or bool(error or text.strip())
            continue
        (number, source_text, source_error), (_, target_text, target_error) = left, right
        if source_error or target_error:
            source.bad(source_error or target_error, number,
                       path=source.path if source_error else target.path)
        elif source_text.strip() and target_text.strip():
            yield source.pair(source_text.strip(_FIELD_STRIP), target_text.strip(_FIELD_STRIP), number)
        elif source_text.strip() or target_text.strip():
            empty, other = (target, source) if source_text.strip() else (source, target)
            source.bad(f"empty line, but line {number} of {other.path} has text", number, path=empty.path)
    if extra_text:
        raise CorpusError(f"aligned files differ in length: {source.path} has {source.line_count} lines, "
                          f"{target.path} has {target.line_count} lines", path=source.path)
    source.finish()


def len_of_words(text: str) -> int:
    """Number of whitespace-separated words: the default length measure for filtering."""
    return len(text.split())


def filter_length(pairs: Iterable[Pair], max_source_len: int | None, max_target_len: int | None,
                  source_length: Callable[[str], int] = len_of_words,
                  target_length: Callable[[str], int] = len_of_words,
                  report: ReadReport | None = None) -> Iterator[Pair]:
    """Drop pairs longer than the limits (None: no limit), counting them in report.filtered."""
    for limit in (max_source_len, max_target_len):
        if limit is not None and limit < 1:
            raise ConfigError(f"maximum lengths must be at least 1 (or None for no limit), got {limit}")

    def kept() -> Iterator[Pair]:
        for pair in pairs:
            if ((max_source_len is None or source_length(pair.source) <= max_source_len)
                    and (max_target_len is None or target_length(pair.target) <= max_target_len)):
                yield pair
            elif report is not None:
                report.filtered += 1

    return kept()


def looks_like_anki(path: _PathLike) -> bool:
    """True when the file's first non-blank lines all have a third tab-separated column that is a
    Tatoeba attribution, as manythings.org's files have (`english<TAB>other<TAB>CC-BY 2.0 ...
    tatoeba.org #123 ...`). Older releases without that column are not recognised: they need
    `--source-lang` (or `format="anki"`)."""
    try:
        with open(path, "rb") as file:
            head = file.read(_CHUNK)
    except OSError:
        return False  # the reader says what is wrong with the file
    lines = head.decode("utf-8", "replace").splitlines()
    lines = [line for line in (lines[:-1] if len(head) == _CHUNK else lines) if line.strip()][:_SNIFF_LINES]
    return bool(lines) and all(len(fields := line.split("\t")) >= 3 and _ANKI_ATTRIBUTION.match(fields[2].strip())
                               for line in lines)


def read_corpus(path: _PathLike, *, format: str = "auto", source_lang: str | None = None,
                source_column: int | None = None, target_column: int | None = None, separator: str | None = None,
                target_path: _PathLike | None = None, skip_bad_lines: bool = False,
                report: ReadReport | None = None) -> Iterator[Pair]:
    """One entry point for every format. auto: aligned if target_path is given, tsv if separator
    or columns are, csv for a .csv suffix, anki if source_lang is given or the file is recognised
    as a Tatoeba/Anki file (`looks_like_anki`), else tsv. TSV and CSV columns default to 0 (source)
    and 1 (target); an anki file's source is the language other than English unless source_lang is
    eng. Options that the chosen format would ignore are errors, so a mistaken direction or column
    choice is never silent. `report.reading` records the choice, `report.notes` a guess."""
    if format not in FORMATS:
        raise CorpusError(f"unknown corpus format {format!r}; valid: {', '.join(FORMATS)}", path=path)
    columns_given = source_column is not None or target_column is not None
    recognised = False
    if format == "auto":
        format = ("aligned" if target_path is not None else "tsv" if separator is not None or
                  (columns_given and Path(path).suffix.lower() != ".csv")
                  else "csv" if Path(path).suffix.lower() == ".csv"
                  else "anki" if source_lang is not None else None)
        if format is None:
            recognised = looks_like_anki(path)
            format = "anki" if recognised else "tsv"
    if (target_path is not None) != (format == "aligned"):
        raise CorpusError("target_path goes with (and only with) the aligned format", path=path)
    if source_lang is not None and format != "anki":
        raise CorpusError(f"source_lang is for anki files, not {format}; choose columns instead", path=path)
    if separator is not None and format != "tsv":
        raise CorpusError(f"a separator is for tsv files, not {format}", path=path)
    if columns_given and format in ("anki", "aligned"):
        raise CorpusError(f"columns are for tsv and csv files, not {format}"
                          + ("; an anki file's direction is chosen with source_lang" if format == "anki" else ""),
                          path=path)
    report = report if report is not None else ReadReport()
    source_column = 0 if source_column is None else source_column
    target_column = 1 if target_column is None else target_column
    if format == "aligned":
        report.reading = {"format": "aligned"}
        return read_aligned(path, target_path, skip_bad_lines, report)
    if format == "anki":
        english_source = (source_lang or "").strip().lower() in ("eng", "en", "english")
        report.reading = {"format": "anki", "source_lang": source_lang,
                          "source_column": 0 if english_source else 1, "target_column": 1 if english_source else 0}
        if recognised:
            report.notes.append("recognised as a Tatoeba/Anki file (its third column is a tatoeba.org "
                                "attribution): English is column 0, so column 1 (the other language) is the "
                                "source; --source-lang eng reverses it")
        return read_anki(path, source_lang or "spa", skip_bad_lines, report)
    report.reading = {"format": format, "source_column": source_column, "target_column": target_column}
    if format == "csv":
        return read_csv(path, source_column, target_column, skip_bad_lines, report)
    return read_tsv(path, source_column, target_column, separator or "\t", skip_bad_lines, report)
