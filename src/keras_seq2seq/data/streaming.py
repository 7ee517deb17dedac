"""Training on a corpus too large for memory: read it as a stream, shuffle it in a bounded buffer.

The in-memory path reads every pair into a list, encodes them all, and `TrainingBatches` plans an
epoch over the whole corpus. Memory then grows with the corpus. Here the file is read twice per
run and never held:

1. `StreamedCorpus.scan` reads it once, before the model exists: it counts tokens for the two
   vocabularies, counts the pairs the length limits keep (Keras needs the batches per epoch, and
   the progress bar an ETA), notes the longest target (the output length limit) and digests the
   pairs (a resumed run must see the same data). Only counters are kept.
2. Every epoch, `StreamingBatches` reads it again from the top, encodes pairs as they come, and
   fills a buffer of `shuffle_buffer` pairs. Each full buffer is batched exactly like the whole
   corpus is in memory (`TrainingBatches`: length-sorted pools, `padded_length` shapes, batches
   of `batch_size` rows) with its batch order shuffled; its batches are trained on, then the
   buffer is dropped and the next one read. At most one buffer of pairs is in memory.

Mixing is bounded by the buffer: a pair trains beside pairs at most `shuffle_buffer` lines away
in the file. A file sorted by topic or length should be shuffled once beforehand (`shuf`).

Every epoch's batches are a pure function of `(seed, epoch)`: buffer `k` always holds the same
pairs (file order), and its plan is seeded by `(seed, k)` and the epoch. A run resumed at batch
`n` of an epoch reads past the first `n` batches' buffers and carries on with the very batches
an uninterrupted run would have trained on.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import keras
import numpy as np

from keras_seq2seq.data.batching import TrainingBatches, within_limits
from keras_seq2seq.data.corpus import Pair, ReadReport, read_corpus
from keras_seq2seq.data.training_data import (BatchPlan, EncodePair, TrainingData, Vocabularies, pair_bytes,
                                              refuse_subwords)
from keras_seq2seq.errors import ConfigError, CorpusError
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.vocabulary import Vocabulary

DEFAULT_SHUFFLE_BUFFER = 100_000  # pairs per buffer: ~25 MB of encoded pairs, ~1,500 batches of 64
_RECENT_BATCHES = 8  # batches whose shape and token count stay known after they were handed out


@dataclass
class CorpusScan:
    """What one pass over a streamed corpus found: token counts, sizes, and a digest."""
    source_counts: Counter
    target_counts: Counter
    pairs: int            # pairs read
    kept: int             # pairs within the length limits: the training set
    dropped: int          # pairs over a length limit
    longest_target: int   # in target ids, `<eos>` included, over the kept pairs
    fingerprint: str
    report: ReadReport


class StreamedCorpus(TrainingData):
    """A parallel corpus file read as a stream: give it to `Translator.train` instead of a list.

    Args:
        path: the corpus (any format `read_corpus` reads); `read_options` go to `read_corpus`
            (format, source_lang, source_column, target_column, separator, target_path,
            skip_bad_lines).
        shuffle_buffer: most pairs held at once; rounded up to whole batches.

    Examples:
    >>> corpus = StreamedCorpus("big.tsv", shuffle_buffer=100_000, skip_bad_lines=True)
    >>> translator = Translator.train(corpus, dev=dev_pairs, preset="tatoeba-word")  # doctest: +SKIP
    """

    in_memory = False

    def __init__(self, path: str | os.PathLike, shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
                 **read_options):
        if not isinstance(shuffle_buffer, int) or shuffle_buffer < 1:
            raise ConfigError(f"the shuffle buffer must hold at least 1 pair, got {shuffle_buffer!r}")
        self.path = Path(path)
        self.shuffle_buffer = shuffle_buffer
        self.read_options = read_options
        read_corpus(self.path, **read_options)  # options and the file's existence are checked now
        self._scans: dict[str, CorpusScan] = {}
        self.last_scan: CorpusScan | None = None

    def pairs(self, report: ReadReport | None = None) -> Iterator[Pair]:
        """The corpus from its first line; bad lines raise `CorpusError` naming file and line
        (or, with `skip_bad_lines`, are counted in `report`)."""
        return read_corpus(self.path, report=report, **self.read_options)

    def scan(self, settings) -> CorpusScan:
        """One pass over the file (once per tokenisation and length limits; later calls reuse it)."""
        text, train = settings.text, settings.train
        refuse_subwords(text)
        source_tokenizer = tokenizer_from_config(text.source_tokenizer)
        target_tokenizer = tokenizer_from_config(text.target_tokenizer)
        key = repr((source_tokenizer.get_config(), target_tokenizer.get_config(), train.max_source_len,
                    train.max_target_len))
        if key in self._scans:
            self.last_scan = self._scans[key]
            return self.last_scan
        source_counts, target_counts = Counter(), Counter()
        digest = self._digest()
        report = ReadReport()
        pairs = kept = longest = 0
        for pair in self.pairs(report):
            source = source_tokenizer.tokenize(pair.source)
            target = target_tokenizer.tokenize(pair.target)
            source_counts.update(source)
            target_counts.update(target)
            digest.update(pair_bytes(pair))
            pairs += 1
            if within_limits(len(source), len(target) + 1, train.max_source_len, train.max_target_len):
                kept += 1
                longest = max(longest, len(target) + 1)
        self.last_scan = self._scans[key] = CorpusScan(source_counts, target_counts, pairs, kept, pairs - kept,
                                                       longest, digest.hexdigest(), report)
        return self.last_scan

    @property
    def fingerprint(self) -> str:
        """The digest a resumed run compares: the pairs in order, and the buffer they stream in
        (another buffer size trains on other batches, so it is another run). Made by the scan,
        or by a pass of its own when the corpus was not scanned yet."""
        if self.last_scan is not None:
            return self.last_scan.fingerprint
        digest = self._digest()
        for pair in self.pairs():
            digest.update(pair_bytes(pair))
        return digest.hexdigest()

    def _digest(self):
        return hashlib.sha256(f"streamed in buffers of {self.shuffle_buffer}\n".encode())

    def __len__(self) -> int:
        """Pairs read by the last scan (so `len(train)` reads as it does for a list)."""
        return self.last_scan.pairs if self.last_scan else 0

    def vocabularies(self, settings) -> Vocabularies:
        """Word or character vocabularies from the scan's token counts (no subwords: see `scan`)."""
        scan, text = self.scan(settings), settings.text
        return Vocabularies(tokenizer_from_config(text.source_tokenizer), tokenizer_from_config(text.target_tokenizer),
                            Vocabulary.from_counts(scan.source_counts, text.min_freq, text.max_vocab),
                            Vocabulary.from_counts(scan.target_counts, text.min_freq, text.max_vocab))

    def plan(self, encode: EncodePair, settings) -> BatchPlan:
        """Batches read one shuffle buffer at a time; the pairs themselves are never held."""
        t = settings.train
        if t.batch_tokens:
            raise ConfigError("token batches (batch_tokens) are cut from the whole corpus sorted by length "
                              "before an epoch starts, and a stream is never held: use batch_size with a "
                              "streamed corpus")
        scan = self.scan(settings)
        if not scan.kept:
            raise ConfigError(f"{self.path}: all {scan.pairs:,} training pairs are longer than the length "
                              f"limits (max_source_len={t.max_source_len}, max_target_len={t.max_target_len})")

        def encode_kept(pair: Pair) -> tuple[np.ndarray, np.ndarray] | None:
            source, target = encode(pair.source, pair.target)
            if within_limits(len(source), len(target), t.max_source_len, t.max_target_len):
                return source, target
            return None

        batches = StreamingBatches(self.pairs, encode_kept, scan.kept, t.batch_size, t.length_step, t.seed,
                                   self.shuffle_buffer)
        return BatchPlan(batches, scan.kept, scan.dropped, scan.longest_target)


class StreamingBatches(keras.utils.PyDataset):
    """Teacher-forcing batches read from a stream, one bounded buffer at a time, for `Model.fit`.

    The same interface as `TrainingBatches` (`start_epoch`, `batches_per_epoch`, `padded_shape`,
    `batch_target_tokens`), so the training loop and its callbacks treat both alike. Keras asks
    for batches in order; a batch asked for out of order restarts the epoch's stream and reads up
    to it (slow, but right).

    Args:
        open_pairs: returns a fresh iterator over the corpus from its first pair.
        encode: `(source ids, target ids)` for a pair, or None for a pair the length limits drop.
        pairs: how many pairs `encode` keeps (from the scan); fixes the batches per epoch.
    """

    def __init__(self, open_pairs: Callable[[], Iterator[Pair]],
                 encode: Callable[[Pair], tuple[np.ndarray, np.ndarray] | None], pairs: int,
                 batch_size: int, length_step: int = 8, seed: int = 0,
                 shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER):
        super().__init__()
        self.open_pairs = open_pairs
        self.encode = encode
        self.pairs = pairs
        self.batch_size = batch_size
        self.length_step = length_step
        self.seed = seed
        # Whole batches per buffer, so only the last buffer's last batch has empty rows and an
        # epoch has exactly as many batches as the in-memory path would make.
        self.buffer_batches = -(-shuffle_buffer // batch_size)
        self.buffer_size = self.buffer_batches * batch_size
        self.largest_buffer = 0  # most pairs one buffer held (tests check it against buffer_size)
        self.start_epoch(0)

    @property
    def batches_per_epoch(self) -> int:
        return -(-self.pairs // self.batch_size)

    def start_epoch(self, epoch: int, skip: int = 0) -> None:
        """Hand out `epoch`'s batches from number `skip` on (`skip` > 0 resumes an epoch mid-way)."""
        self.epoch, self.skip = epoch, skip
        self._stream: Iterator | None = None
        self._next = 0  # index (after `skip`) of the batch the stream gives next
        self._recent: deque[tuple[int, tuple, tuple[int, int], int]] = deque(maxlen=_RECENT_BATCHES)

    def __len__(self) -> int:
        return self.batches_per_epoch - self.skip

    def __getitem__(self, index: int):
        return self._batch(index)[1]

    def padded_shape(self, index: int) -> tuple[int, int]:
        """`(source length, target length)` batch `index` is padded to (a batch handed out lately)."""
        return self._batch(index)[2]

    def batch_target_tokens(self, index: int) -> int:
        return self._batch(index)[3]

    def _batch(self, index: int) -> tuple[int, tuple, tuple[int, int], int]:
        for recent in self._recent:
            if recent[0] == index:
                return recent
        if self._stream is None or index != self._next:
            self._stream, self._next = self.epoch_batches(self.epoch, self.skip + index), index
        try:
            arrays, shape, tokens = next(self._stream)
        except StopIteration:
            raise IndexError(f"batch {index} is past the end of the epoch ({len(self)} batches)") from None
        self._next += 1
        self._recent.append((index, arrays, shape, tokens))
        return self._recent[-1]

    def epoch_batches(self, epoch: int, first: int = 0) -> Iterator[tuple[tuple, tuple[int, int], int]]:
        """`(batch arrays, padded shape, real target tokens)` of `epoch`, from its batch `first`.

        The buffers before batch `first` are read and encoded (to know where they end) but not
        batched: resuming late in an epoch costs one read of the part already done.
        """
        handed_out = first
        for number, (sources, targets) in enumerate(self._buffers()):
            in_buffer = -(-len(sources) // self.batch_size)
            if first >= in_buffer:
                first -= in_buffer
                del sources, targets
                continue
            # One seed per buffer, so each buffer's plan is its own and independent of the others.
            seed = int(np.random.SeedSequence([self.seed, number]).generate_state(1)[0])
            # Each buffer is planned alone: its rare shapes say nothing of the next buffer's.
            chunk = TrainingBatches(sources, targets, self.batch_size, self.length_step, seed=seed,
                                    merge_shapes=False)
            chunk.start_epoch(epoch, first)
            first = 0
            for i in range(len(chunk)):
                handed_out += 1
                yield chunk[i], chunk.padded_shape(i), chunk.batch_target_tokens(i)
            del chunk, sources, targets  # before the next buffer is read: one buffer at a time
        if handed_out != self.batches_per_epoch:
            raise CorpusError(f"the corpus changed while training: it now makes {handed_out:,} batches per "
                              f"epoch, not {self.batches_per_epoch:,}; start the run again")

    def _buffers(self) -> Iterator[tuple[list[np.ndarray], list[np.ndarray]]]:
        """The kept pairs' ids, `buffer_size` pairs at a time, in file order."""
        sources, targets = [], []
        for pair in self.open_pairs():
            encoded = self.encode(pair)
            if encoded is None:
                continue
            sources.append(encoded[0])
            targets.append(encoded[1])
            if len(sources) == self.buffer_size:
                self.largest_buffer = max(self.largest_buffer, len(sources))
                yield sources, targets
                sources, targets = [], []  # the full buffer goes once its batches are trained on
        if sources:
            self.largest_buffer = max(self.largest_buffer, len(sources))
            yield sources, targets
