"""Deterministic train/dev/test splits of a sentence-pair file, made the way `../shared/data` is.

The rule, so anyone can repeat a split exactly:

1. Read every non-empty line of the file (lines end at "\\n" only; a trailing "\\r" is dropped).
2. De-duplicate on the exact (column 1, column 2) pair of tab-separated columns, keeping the first
   occurrence in file order. Further columns (Tatoeba's attribution) are not part of the key.
3. Shuffle the kept lines with `random.Random(seed).shuffle(...)`, seed 743 by default.
4. Slice the shuffled list: `dev_size` lines for dev.tsv, then `test_size` for test.tsv, then
   `held_out_size` for held-out.tsv (a reserve nobody tunes on), and all the rest for train.tsv.

Lines are written exactly as read (only their order changes), so no pair is in two splits.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from keras_seq2seq.files import atomic_write_text, read_text_file
from keras_seq2seq.errors import CorpusError

SEED = 743          # the seed ../shared/data was shuffled with
DEV_SIZE = 2000     # lines in dev.tsv
TEST_SIZE = 2000    # lines in test.tsv
HELD_OUT_SIZE = 2000  # lines set aside after test (held-out.tsv), as in ../shared/data
SPLIT_NAMES = ("dev", "test", "held-out", "train")  # in slicing order


@dataclass(frozen=True)
class SplitReport:
    """What `split_file` read and wrote: line counts per stage and the files per split."""
    lines: int
    duplicates: int
    sizes: dict[str, int]
    files: dict[str, Path]

    def summary(self) -> str:
        parts = ", ".join(f"{name} {self.sizes[name]:,}" for name in SPLIT_NAMES if self.sizes[name])
        return (f"{self.lines:,} lines, {self.duplicates:,} duplicate pairs dropped, "
                f"{self.lines - self.duplicates:,} kept: {parts}")


def unique_lines(path: str | os.PathLike) -> tuple[list[str], int]:
    """The file's non-empty lines, first occurrence of each (column 1, column 2) pair, and the
    number of lines read. A line with fewer than two tab-separated columns is a CorpusError."""
    text = read_text_file(Path(path), CorpusError, "corpus file")
    # split("\n"), not splitlines(): Tatoeba text may hold U+2028 or U+0085, which are not line ends.
    seen: set[tuple[str, str]] = set()
    kept: list[str] = []
    read = 0
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        read += 1
        columns = line.split("\t")
        if len(columns) < 2:
            raise CorpusError("expected at least 2 tab-separated columns, found 1", path=path, line=number)
        key = (columns[0], columns[1])
        if key not in seen:
            seen.add(key)
            kept.append(line)
    if not kept:
        raise CorpusError("no sentence pairs found", path=path)
    return kept, read


def split_lines(lines: list[str], dev_size: int = DEV_SIZE, test_size: int = TEST_SIZE,
                held_out_size: int = HELD_OUT_SIZE, seed: int = SEED) -> dict[str, list[str]]:
    """Shuffle a copy of `lines` with `seed` and slice it into dev, test, held-out and train."""
    sizes = {"dev": dev_size, "test": test_size, "held-out": held_out_size}
    if any(size < 0 for size in sizes.values()):
        raise CorpusError(f"split sizes must not be negative, got {sizes}")
    reserved = sum(sizes.values())
    if reserved >= len(lines):
        raise CorpusError(f"{len(lines):,} unique pairs are too few: dev {dev_size:,} + test {test_size:,} "
                          f"+ held-out {held_out_size:,} = {reserved:,} leave none for training; "
                          "choose smaller --dev-size/--test-size/--held-out-size")
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    splits, start = {}, 0
    for name, size in sizes.items():
        splits[name] = shuffled[start : start + size]
        start += size
    splits["train"] = shuffled[start:]
    return splits


def split_file(path: str | os.PathLike, out_dir: str | os.PathLike, dev_size: int = DEV_SIZE,
               test_size: int = TEST_SIZE, held_out_size: int = HELD_OUT_SIZE,
               seed: int = SEED) -> SplitReport:
    """Write `out_dir/{train,dev,test}.tsv` (and held-out.tsv when its size is not 0) from `path`.

    Each file is written atomically; running it twice on the same file gives identical files.
    """
    lines, read = unique_lines(path)
    splits = split_lines(lines, dev_size, test_size, held_out_size, seed)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = {}
        for name in SPLIT_NAMES:
            if splits[name]:
                files[name] = out_dir / f"{name}.tsv"
                atomic_write_text(files[name], "".join(line + "\n" for line in splits[name]))
    except OSError as error:
        raise CorpusError(f"cannot write the splits ({error.strerror})", path=out_dir) from None
    return SplitReport(read, read - len(lines), {name: len(splits[name]) for name in SPLIT_NAMES}, files)
