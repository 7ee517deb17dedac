"""Batches for training and generation: length-bucketed, padded to a few fixed shapes.

Two things make RNN training fast on any device: little padding (sentences of similar length go
together) and few distinct shapes (each new shape is a new compiled program). We sort examples by
length inside large random pools, cut the pools into batches, shuffle the batch order, and round
every padded source length up to a multiple of `length_step` (targets: of half that). Plain
numpy; no tensors here.

Batches hold `batch_size` sentences, or, with `batch_tokens`, about that many target tokens
(padding included), as OpenNMT-py's `batch_type: tokens` and fairseq's `--max-tokens` cut them:
many short sentences or a few long ones, so every step does a similar amount of work and
short sentences no longer run in small matrix products. Token batches are cut from the whole
corpus sorted by padded length (ties in a new random order each epoch), so every epoch has the
same batch shapes and count, known before training starts; their row counts are rounded to a
few sizes (`token_rows`) and follow from the target length, so they add no compiled shapes.
"""

from __future__ import annotations

import collections
from typing import Sequence

import keras
import numpy as np

from keras_seq2seq.text.vocabulary import BOS_ID

POOL_BATCHES = 64  # batches per sorting pool: large enough to group lengths, small enough to mix
# A rare padded shape is padded further, to a larger shape already in use, when that costs at most
# this many batches' worth of extra work per epoch: about what compiling a program of its own
# costs (compiling a training step of the tatoeba-small model takes as long as a few dozen steps).
MERGE_COST = 2.0


def padded_length(length: int, step: int) -> int:
    """`length` rounded up to a multiple of `step` (at least `step`).

    Past `6 * step`, where few sentences are, lengths round up to multiples of `4 * step`
    instead: the rare long batches then add only a few compiled shapes.
    """
    fine = 6 * step
    if length <= fine:
        return max(step, -(-length // step) * step)
    coarse = 4 * step
    return fine + -(-(length - fine) // coarse) * coarse


def within_limits(source_ids: int, target_ids: int, max_source_len: int | None,
                  max_target_len: int | None) -> bool:
    """The training length rule: a pair stays unless a side is over its limit in tokens (the
    target's `<eos>`, counted in `target_ids`, does not count against it)."""
    return not ((max_source_len and source_ids > max_source_len)
                or (max_target_len and target_ids - 1 > max_target_len))


def pad(sequences: Sequence[np.ndarray], length: int, rows: int | None = None) -> np.ndarray:
    """Stack int sequences into a zero-padded `rows x length` array (rows defaults to len)."""
    out = np.zeros((rows or len(sequences), length), dtype=np.int32)
    for i, seq in enumerate(sequences):
        out[i, : len(seq)] = seq[:length]
    return out


def token_rows(budget: int, target_length: int, multiple: int = 1) -> int:
    """Rows of a token batch padded to `target_length`: as many as fit in `budget` target tokens,
    rounded down to a number with at most three significant bits (1-8, then 10, 12, 14, 16, 20,
    24, 28, 32, 40, ...: four sizes per doubling) and to a multiple of `multiple` (the devices a
    batch is split across); at least one row, or `multiple`.

    >>> [token_rows(4096, n) for n in (2, 6, 12, 40, 5000)]
    [2048, 640, 320, 96, 1]
    """
    rows = max(1, budget // target_length)
    shift = max(0, rows.bit_length() - 3)
    rows = (rows >> shift) << shift
    return max(multiple, rows - rows % multiple)


def token_cuts(source_padded: np.ndarray, target_padded: np.ndarray, budget: int,
               multiple: int = 1) -> list[tuple[int, int, int, int, int]]:
    """Batches of token budget `budget` over examples sorted by `(target_padded, source_padded)`
    (the arrays, in that order): `(start, end, rows, source length, target length)` each.

    Each target length's examples fill batches of `token_rows` rows; the few left over join the
    next length's first batch (padded to that length); the very last batch gets empty rows. The
    cuts depend on the sorted lengths alone, not on which example is where: shuffling examples of
    equal lengths changes no batch's shape.
    """
    cuts, start, n = [], 0, len(target_padded)
    boundaries = np.flatnonzero(np.diff(target_padded)) + 1
    for end in [*boundaries.tolist(), n]:
        length = int(target_padded[end - 1])
        rows = token_rows(budget, length, multiple)
        while end - start >= rows:
            cuts.append((start, start + rows, rows, int(source_padded[start:start + rows].max()), length))
            start += rows
    if start < n:
        length = int(target_padded[-1])
        cuts.append((start, n, token_rows(budget, length, multiple), int(source_padded[start:].max()), length))
    return cuts


def merged_shapes(counts: dict[tuple[int, ...], int]) -> dict[tuple[int, ...], tuple[int, ...]]:
    """For each padded shape, the shape to pad its batches to: itself, or a larger one in use.

    `counts` holds how many batches of an epoch have each `(source, target)` shape (or
    `(rows, source, target)` for token batches). A shape is folded into the smallest shape
    that covers it (every size at least as large) when its
    batches' extra padding, in batches, stays within `MERGE_COST`: a shape seen once or twice an
    epoch is cheaper padded than compiled.

    Examples:
    >>> shapes = merged_shapes({(8, 8): 400, (16, 12): 200, (16, 8): 1, (24, 8): 1})
    >>> shapes[(16, 8)], shapes[(8, 8)], shapes[(24, 8)]  # padded up; too common; nothing covers it
    ((16, 12), (8, 8), (24, 8))
    """
    def area(shape: tuple[int, ...]) -> int:
        return int(np.prod(shape))

    kept: list[tuple[int, ...]] = []
    mapping = {}
    for shape in sorted(counts, key=lambda shape: (area(shape), shape), reverse=True):
        covering = [k for k in kept if all(a >= b for a, b in zip(k, shape))]
        target = min(covering, key=lambda k: (area(k), k), default=None)
        if target is not None and counts[shape] * (area(target) / area(shape) - 1) <= MERGE_COST:
            mapping[shape] = target
        else:
            kept.append(shape)
            mapping[shape] = shape
    return mapping


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                     pool_batches: int = POOL_BATCHES) -> list[np.ndarray]:
    """Index arrays, one per batch, grouping examples of similar `lengths`, in random order."""
    order = rng.permutation(len(lengths))
    pool = batch_size * pool_batches
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


class TrainingBatches(keras.utils.PyDataset):
    """Teacher-forcing batches `((source, target_in), target_out)` for `Model.fit`.

    `targets` end with `<eos>`; `target_in` is the same sequence shifted right behind `<bos>`.
    Every batch has exactly `batch_size` rows (short batches get empty rows, which the masked
    loss ignores) so that only the lengths vary, in steps of `length_step`. With `batch_tokens`,
    a batch's rows follow from its target length instead (`token_cuts`), at most `batch_tokens`
    target positions, a multiple of `row_multiple` (the devices it is split across).

    Each epoch's batch order is a pure function of `(seed, epoch)`: a run resumed from a
    checkpoint sees exactly the batches it would have seen, and can skip those already done.
    `start_epoch(epoch, skip)` selects the epoch (the `EpochPlan` callback calls it during `fit`);
    the dataset then holds that epoch's batches from number `skip` on.

    With `merge_shapes`, a shape few batches have is padded up to a common one (`merged_shapes`):
    a few compiled programs fewer on a real corpus.
    """

    def __init__(self, sources: list[np.ndarray], targets: list[np.ndarray], batch_size: int,
                 length_step: int = 8, seed: int = 0, shuffle: bool = True, merge_shapes: bool = True,
                 batch_tokens: int = 0, row_multiple: int = 1):
        super().__init__()
        self.sources = sources
        self.targets = targets
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.length_step = length_step
        # Targets pad in half steps: the decoder and output layer cost most per position, and
        # finer target lengths cut their padding at the same shape count (docs/performance.md).
        self.target_step = max(1, length_step // 2)
        self.shuffle = shuffle
        self.seed = seed
        self.source_lengths = np.array([len(s) for s in sources])
        self.target_lengths = np.array([len(t) for t in targets])
        # Sort key: target length first (the decoder is the bigger cost), then source length.
        self.lengths = self.target_lengths * 10_000 + self.source_lengths
        self._cuts: list[tuple[int, int, int, int, int]] = []
        self._rows: dict[tuple[int, int], int] = {}  # token batches: (source, target) -> rows
        if batch_tokens:
            padded_source = np.array([padded_length(n, length_step) for n in self.source_lengths], dtype=np.int64)
            padded_target = np.array([padded_length(n, self.target_step) for n in self.target_lengths],
                                     dtype=np.int64)
            self._token_key = padded_target * 100_000 + padded_source
            order = np.argsort(self._token_key, kind="stable")
            self._cuts = token_cuts(padded_source[order], padded_target[order], batch_tokens, row_multiple)
        # Rare shapes padded up to common ones, chosen once from the first epoch's batches.
        self.shape_map = {}
        if merge_shapes:
            shapes = (map(self._cut_shape, range(len(self._cuts))) if batch_tokens
                      else map(self._bucket_shape, self.plan(0)))
            self.shape_map = merged_shapes(collections.Counter(shapes))
        self.start_epoch(0)

    def plan(self, epoch: int) -> list[np.ndarray]:
        """Row indices of every batch of `epoch`, in training order."""
        return self._epoch(epoch)[0]

    def _epoch(self, epoch: int) -> tuple[list[np.ndarray], np.ndarray | None]:
        """`epoch`'s batches in training order, and (token batches) the cut each one is."""
        rng = np.random.default_rng([self.seed, epoch])
        if self.batch_tokens:
            # Equal keys in a new order each epoch, then the same cuts: new batches, same shapes.
            shuffled = rng.permutation(len(self.lengths)) if self.shuffle else np.arange(len(self.lengths))
            order = shuffled[np.argsort(self._token_key[shuffled], kind="stable")]
            cuts = rng.permutation(len(self._cuts)) if self.shuffle else np.arange(len(self._cuts))
            return [order[self._cuts[i][0]:self._cuts[i][1]] for i in cuts], cuts
        if self.shuffle:
            return bucketed_batches(self.lengths, self.batch_size, rng), None
        order = np.argsort(self.lengths, kind="stable")
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)], None

    def start_epoch(self, epoch: int, skip: int = 0) -> None:
        """Hold `epoch`'s batches from number `skip` on (`skip` > 0 resumes an epoch mid-way)."""
        self.epoch, self.skip = epoch, skip
        batches, cuts = self._epoch(epoch)
        self.batches = batches[skip:]
        self._cut_of = None if cuts is None else cuts[skip:]

    @property
    def batches_per_epoch(self) -> int:
        if self.batch_tokens:
            return len(self._cuts)
        return -(-len(self.lengths) // self.batch_size)

    def __len__(self) -> int:
        return len(self.batches)

    def padded_shape(self, index: int) -> tuple[int, int]:
        """`(source length, target length)` batch `index` is padded to."""
        return self.batch_shape(index)[1:]

    def batch_shape(self, index: int) -> tuple[int, int, int]:
        """`(rows, source length, target length)` of batch `index`: the shape a step compiles for."""
        if self.batch_tokens:
            return self.shape_map.get(shape := self._cut_shape(int(self._cut_of[index])), shape)
        shape = self._bucket_shape(self.batches[index])
        return (self.batch_size, *self.shape_map.get(shape, shape))

    def _cut_shape(self, cut: int) -> tuple[int, int, int]:
        _, _, rows, source, target = self._cuts[cut]
        return rows, source, target

    def _bucket_shape(self, rows: np.ndarray) -> tuple[int, int]:
        """The padded shape of the batch of `rows`, before rare shapes are merged."""
        return (padded_length(int(self.source_lengths[rows].max()), self.length_step),
                padded_length(int(self.target_lengths[rows].max()), self.target_step))

    def batch_target_tokens(self, index: int) -> int:
        return int(self.target_lengths[self.batches[index]].sum())

    def describe(self) -> dict:
        """How the batches are made, and how much of the target positions is padding (epoch 0)."""
        shapes = [self.batch_shape(i) for i in range(len(self.batches))] if self.skip == 0 else []
        padded = sum(rows * target for rows, _, target in shapes)
        real = sum(self.batch_target_tokens(i) for i in range(len(shapes)))
        rows = sorted({shape[0] for shape in shapes})
        what = (f"about {self.batch_tokens:,} target tokens each, {rows[0]}–{rows[-1]} rows" if self.batch_tokens
                and rows else f"{self.batch_size} sentences each")
        return {"description": f"{self.batches_per_epoch:,} batches per epoch of {what}",
                "batch_size": self.batch_size, "batch_tokens": self.batch_tokens, "rows": rows,
                "batches_per_epoch": self.batches_per_epoch,
                "padding_share": round(1 - real / padded, 4) if padded else 0.0}

    def __getitem__(self, index: int):
        rows = self.batches[index]
        count, src_len, tgt_len = self.batch_shape(index)
        source = pad([self.sources[i] for i in rows], src_len, count)
        target_out = pad([self.targets[i] for i in rows], tgt_len, count)
        target_in = np.zeros_like(target_out)
        target_in[:, 0] = BOS_ID
        target_in[:, 1:] = target_out[:, :-1]
        target_in[len(rows) :] = 0  # empty filler rows stay fully padded
        return (source, target_in), target_out
