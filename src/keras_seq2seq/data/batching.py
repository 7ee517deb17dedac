"""Batches for training and generation: length-bucketed, padded to a few fixed shapes.

Two things make RNN training fast on any device: little padding (sentences of similar length go
together) and few distinct shapes (each new shape is a new compiled program). We sort examples by
length inside large random pools, cut the pools into batches, shuffle the batch order, and round
every padded source length up to a multiple of `length_step` (targets: of half that). Plain
numpy; no tensors here.
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


def merged_shapes(counts: dict[tuple[int, int], int]) -> dict[tuple[int, int], tuple[int, int]]:
    """For each padded shape, the shape to pad its batches to: itself, or a larger one in use.

    `counts` holds how many batches of an epoch have each `(source, target)` shape. A shape is
    folded into the smallest shape that covers it (both lengths at least as long) when its
    batches' extra padding, in batches, stays within `MERGE_COST`: a shape seen once or twice an
    epoch is cheaper padded than compiled.

    Examples:
    >>> shapes = merged_shapes({(8, 8): 400, (16, 12): 200, (16, 8): 1, (24, 8): 1})
    >>> shapes[(16, 8)], shapes[(8, 8)], shapes[(24, 8)]  # padded up; too common; nothing covers it
    ((16, 12), (8, 8), (24, 8))
    """
    def area(shape: tuple[int, int]) -> int:
        return shape[0] * shape[1]

    kept: list[tuple[int, int]] = []
    mapping = {}
    for shape in sorted(counts, key=lambda shape: (area(shape), shape), reverse=True):
        covering = [k for k in kept if k[0] >= shape[0] and k[1] >= shape[1]]
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
    loss ignores) so that only the lengths vary, in steps of `length_step`.

    Each epoch's batch order is a pure function of `(seed, epoch)`: a run resumed from a
    checkpoint sees exactly the batches it would have seen, and can skip those already done.
    `start_epoch(epoch, skip)` selects the epoch (the `EpochPlan` callback calls it during `fit`);
    the dataset then holds that epoch's batches from number `skip` on.

    With `merge_shapes`, a shape few batches have is padded up to a common one (`merged_shapes`):
    a few compiled programs fewer on a real corpus.
    """

    def __init__(self, sources: list[np.ndarray], targets: list[np.ndarray], batch_size: int,
                 length_step: int = 8, seed: int = 0, shuffle: bool = True, merge_shapes: bool = True):
        super().__init__()
        self.sources = sources
        self.targets = targets
        self.batch_size = batch_size
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
        # Rare shapes padded up to common ones, chosen once from the first epoch's batches.
        self.shape_map = {}
        if merge_shapes:
            self.shape_map = merged_shapes(collections.Counter(map(self._bucket_shape, self.plan(0))))
        self.start_epoch(0)

    def plan(self, epoch: int) -> list[np.ndarray]:
        """Row indices of every batch of `epoch`, in training order."""
        if self.shuffle:
            return bucketed_batches(self.lengths, self.batch_size, np.random.default_rng([self.seed, epoch]))
        order = np.argsort(self.lengths, kind="stable")
        return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def start_epoch(self, epoch: int, skip: int = 0) -> None:
        """Hold `epoch`'s batches from number `skip` on (`skip` > 0 resumes an epoch mid-way)."""
        self.epoch, self.skip = epoch, skip
        self.batches = self.plan(epoch)[skip:]

    @property
    def batches_per_epoch(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def __len__(self) -> int:
        return len(self.batches)

    def padded_shape(self, index: int) -> tuple[int, int]:
        """`(source length, target length)` batch `index` is padded to."""
        shape = self._bucket_shape(self.batches[index])
        return self.shape_map.get(shape, shape)

    def _bucket_shape(self, rows: np.ndarray) -> tuple[int, int]:
        """The padded shape of the batch of `rows`, before rare shapes are merged."""
        return (padded_length(int(self.source_lengths[rows].max()), self.length_step),
                padded_length(int(self.target_lengths[rows].max()), self.target_step))

    def batch_target_tokens(self, index: int) -> int:
        return int(self.target_lengths[self.batches[index]].sum())

    def __getitem__(self, index: int):
        rows = self.batches[index]
        src_len, tgt_len = self.padded_shape(index)
        source = pad([self.sources[i] for i in rows], src_len, self.batch_size)
        target_out = pad([self.targets[i] for i in rows], tgt_len, self.batch_size)
        target_in = np.zeros_like(target_out)
        target_in[:, 0] = BOS_ID
        target_in[:, 1:] = target_out[:, :-1]
        target_in[len(rows) :] = 0  # empty filler rows stay fully padded
        return (source, target_in), target_out
