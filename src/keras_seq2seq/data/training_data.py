"""What training asks of a corpus, whether it is held in memory or streamed from a file.

Training needs four things of its data: vocabularies (and trained subword tokenisers), batches
with a count of what the length limits kept, a fingerprint (a resumed run must see the very data
it started with), and, when the pairs are held, their ids for the vocabulary shortlist. A list of
pairs (`PairList`) and a file read as a stream (`data/streaming.py`'s `StreamedCorpus`) both
answer them through `TrainingData`, so the training loop never asks which one it has.

    >>> data = training_data([("hola", "hello"), ("adiós", "bye")])
    >>> len(data), data.in_memory
    (2, True)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from keras_seq2seq.data.batching import TrainingBatches, within_limits
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.errors import ConfigError, Seq2SeqError
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.subwords import SentencePieceTokenizer, train_subword_tokenizers
from keras_seq2seq.text.tokenizers import SUBWORD_KIND, Tokenizer
from keras_seq2seq.text.vocabulary import Vocabulary

EncodePair = Callable[[str, str], tuple[np.ndarray, np.ndarray]]  # (source, target) text -> ids


@dataclass
class Vocabularies:
    """Each side's tokeniser and vocabulary, as built from the training data."""

    source_tokenizer: Tokenizer
    target_tokenizer: Tokenizer
    source_vocab: Vocabulary
    target_vocab: Vocabulary


@dataclass
class BatchPlan:
    """Training batches and what the length limits did.

    Attributes:
        batches: a Keras `PyDataset` of teacher-forcing batches (`TrainingBatches` or streaming).
        kept, dropped: pairs within the length limits, and over them.
        longest_target: the longest kept target in ids, `<eos>` included.
        encoded: the kept pairs' `(source ids, target ids)` lists when they are held in memory
            (the vocabulary shortlist is counted from them); None for a stream.
    """

    batches: object
    kept: int
    dropped: int
    longest_target: int
    encoded: tuple[list[np.ndarray], list[np.ndarray]] | None = None


class TrainingData:
    """The corpus interface training uses; see `PairList` and `streaming.StreamedCorpus`."""

    in_memory: bool = True

    def __len__(self) -> int:
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        """A digest of the pairs in order (and of anything else that decides the batches)."""
        raise NotImplementedError

    def vocabularies(self, settings) -> Vocabularies:
        """Tokenisers and vocabularies for `settings.text`, learnt from this data.

        Subword sides train a SentencePiece model and name its file in `settings.text` (the
        settings are updated in place, so that they describe the trained tokeniser)."""
        raise NotImplementedError

    def plan(self, encode: EncodePair, settings) -> BatchPlan:
        """Training batches of the pairs `settings.train`'s length limits keep."""
        raise NotImplementedError


class PairList(TrainingData):
    """Training pairs held in memory, e.g. a read corpus or a built-in task's split."""

    in_memory = True

    def __init__(self, pairs: Iterable):
        self.pairs = [as_pair(p) for p in pairs]
        self._fingerprint: str | None = None

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self) -> Iterator[Pair]:
        return iter(self.pairs)

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            digest = hashlib.sha256()
            for pair in self.pairs:
                digest.update(pair_bytes(pair))
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def vocabularies(self, settings) -> Vocabularies:
        if not self.pairs:
            raise ConfigError("no training pairs")
        text = settings.text
        sources, targets = [p.source for p in self.pairs], [p.target for p in self.pairs]
        subwords = train_subword_tokenizers(text, sources, targets)
        for side, tokenizer in subwords.items():  # the settings now name the trained model files
            setattr(text, f"{side}_tokenizer", tokenizer.get_config())
        source_tok = subwords.get("source") or tokenizer_from_config(text.source_tokenizer)
        target_tok = subwords.get("target") or tokenizer_from_config(text.target_tokenizer)
        return Vocabularies(source_tok, target_tok, _vocabulary(source_tok, sources, text),
                            _vocabulary(target_tok, targets, text))

    def encoded(self, encode: EncodePair, max_source_len: int | None = None,
                max_target_len: int | None = None) -> tuple[list[np.ndarray], list[np.ndarray], int]:
        """`(source ids, target ids, pairs dropped)`: every pair within the limits, encoded."""
        sources, targets, dropped = [], [], 0
        for pair in self.pairs:
            source, target = encode(pair.source, pair.target)
            if not within_limits(len(source), len(target), max_source_len, max_target_len):
                dropped += 1
                continue
            sources.append(source)
            targets.append(target)
        return sources, targets, dropped

    def plan(self, encode: EncodePair, settings) -> BatchPlan:
        t = settings.train
        sources, targets, dropped = self.encoded(encode, t.max_source_len, t.max_target_len)
        if not sources:
            raise ConfigError(f"all {len(self.pairs)} training pairs are longer than the length limits "
                              f"(max_source_len={t.max_source_len}, max_target_len={t.max_target_len})")
        batches = TrainingBatches(sources, targets, t.batch_size, t.length_step, seed=t.seed,
                                  batch_tokens=t.batch_tokens, row_multiple=t.devices)
        return BatchPlan(batches, len(sources), dropped, max(len(y) for y in targets), (sources, targets))


def training_data(data) -> TrainingData:
    """`data` as `TrainingData`: a `TrainingData` as it is, anything else as pairs to hold."""
    return data if isinstance(data, TrainingData) else PairList(data)


def as_pair(item) -> Pair:
    """A `Pair` from a `Pair` or a `(source, target)` tuple; `Seq2SeqError` for anything else."""
    if isinstance(item, Pair):
        return item
    try:
        source, target = item
    except (TypeError, ValueError):
        raise Seq2SeqError(f"expected a (source, target) pair, got {item!r}") from None
    return Pair(str(source), str(target))


def pair_bytes(pair: Pair) -> bytes:
    """How one pair enters a fingerprint (the source length first, so no two pairs read alike)."""
    return f"{len(pair.source)}:{pair.source}\t{pair.target}\n".encode("utf-8", "surrogatepass")


def _vocabulary(tokenizer: Tokenizer, texts: Sequence[str], text) -> Vocabulary:
    """Subword pieces are the vocabulary, in SentencePiece's id order; other kinds count tokens."""
    if isinstance(tokenizer, SentencePieceTokenizer):
        return Vocabulary(tokenizer.pieces)
    return Vocabulary.build((tokenizer.tokenize(t) for t in texts), min_freq=text.min_freq,
                            max_size=text.max_vocab)


def refuse_subwords(text) -> None:
    """A stream cannot train SentencePiece (it learns from text held in memory): say so."""
    if SUBWORD_KIND in (text.source_tokenizer.get("kind"), text.target_tokenizer.get("kind")):
        raise ConfigError("a streamed corpus builds word or character vocabularies as it reads; "
                          "sentencepiece learns its pieces from text held in memory: train it without "
                          "streaming, or use --tokenizer word or char")
