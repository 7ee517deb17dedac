"""Vocabulary shortlists: score only the target words a batch could plausibly need.

At every generation step the output layer multiplies each hypothesis by the whole
`units x vocab` matrix, then normalises and ranks over the whole vocabulary: on a 10k-word model
that is about a third of a beam-search step. Most of those words are out of the question for a
given batch. A shortlist keeps, for one batch of sources,

- the `frequent` most common target words (function words, punctuation, `<eos>`, `<unk>`), and
- for each source word in the batch, the `per_source` target words that most often occur in the
  targets of training pairs whose source holds that word (`P(target word | source word)` by
  co-occurrence: no aligner needed),

padded to a fixed `size` (one compiled program per size). The search then scores only those
words; probabilities are normalised over the shortlist. It is an approximation, off by default
(`--shortlist SIZE` turns it on); `bench/quality.py --shortlist` measures what it costs in BLEU.

The table is built from the training pairs when a model is trained, and stored in the model
directory as `shortlist.json`; `seq2seq shortlist` builds it for a model trained without one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from keras_seq2seq.files import atomic_write_text, read_regular_text
from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.text.vocabulary import EOS_ID, PAD_ID, UNK_ID

FILE = "shortlist.json"
FORMAT = 1


class Shortlist:
    """The candidate table: `frequent` target ids, and `candidates[source_id]`, best first.

    `candidates` is `source_vocab x per_source`, -1 where a source word has fewer candidates.
    """

    def __init__(self, frequent: np.ndarray, candidates: np.ndarray):
        self.frequent = np.asarray(frequent, dtype=np.int32)
        self.candidates = np.asarray(candidates, dtype=np.int32)

    @classmethod
    def build(cls, sources: Sequence[np.ndarray], targets: Sequence[np.ndarray], source_vocab_size: int,
              target_vocab_size: int, frequent: int = 500, per_source: int = 10) -> "Shortlist":
        """Count, over encoded training pairs, in how many targets each word occurs, with and
        without each source word; keep the most frequent targets and each source word's best."""
        if len(sources) != len(targets):
            raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
        present_s = [np.unique(s) for s in sources]
        present_t = [np.unique(t) for t in targets]
        target_count = np.bincount(np.concatenate(present_t + [np.zeros(0, np.int64)]).astype(np.int64),
                                   minlength=target_vocab_size)
        # Special ids first (<eos> ends every sentence, <unk> stands for every rare word).
        order = np.argsort(-target_count, kind="stable")
        specials = np.array([EOS_ID, UNK_ID])
        top = np.concatenate([specials, order[~np.isin(order, np.append(specials, PAD_ID))]])[:max(frequent, 2)]
        if not present_s:
            return cls(top, np.full((source_vocab_size, per_source), -1))
        # Each (source word, target word) pair once per sentence pair, as one int64 key.
        keys = np.concatenate([np.add.outer(s.astype(np.int64) * target_vocab_size, t).ravel()
                               for s, t in zip(present_s, present_t)])
        keys, together = np.unique(keys, return_counts=True)
        source_of, target_of = keys // target_vocab_size, keys % target_vocab_size
        source_count = np.bincount(np.concatenate(present_s).astype(np.int64), minlength=source_vocab_size)
        likelihood = together / source_count[source_of]
        # The frequent words are always in; a source word's slots go to the others.
        wanted = ~np.isin(target_of, top) & (target_of != PAD_ID)
        source_of, target_of, likelihood = source_of[wanted], target_of[wanted], likelihood[wanted]
        ranked = np.lexsort((target_of, -likelihood, source_of))  # by source, best first
        source_of, target_of = source_of[ranked], target_of[ranked]
        first = np.searchsorted(source_of, source_of, side="left")
        rank = np.arange(len(source_of)) - first
        kept = rank < per_source
        candidates = np.full((source_vocab_size, per_source), -1, dtype=np.int64)
        candidates[source_of[kept], rank[kept]] = target_of[kept]
        return cls(top, candidates)

    @property
    def per_source(self) -> int:
        return self.candidates.shape[1]

    def for_batch(self, source_ids: np.ndarray, size: int) -> np.ndarray:
        """`size` target ids for these sources (`batch x src_len`, 0-padded), -1 in unused slots.

        The frequent words come first, then every source word's best candidate, then every
        second best, and so on, until `size` is reached.
        """
        words = np.unique(source_ids)
        words = words[(words != PAD_ID) & (words < len(self.candidates))]
        by_rank = self.candidates[words].T.ravel()  # all first choices, then all second, ...
        ids = np.concatenate([self.frequent, by_rank[by_rank >= 0]])
        _, first = np.unique(ids, return_index=True)
        ids = ids[np.sort(first)][:size]
        return np.concatenate([ids, np.full(size - len(ids), -1)]).astype(np.int32)

    # ------------------------------------------------------------------ files
    def save(self, directory: Path) -> None:
        payload = {"format": FORMAT, "frequent": self.frequent.tolist(),
                   "candidates": self.candidates.tolist()}
        atomic_write_text(Path(directory) / FILE, json.dumps(payload, separators=(",", ":")))

    @classmethod
    def load(cls, directory: Path, source_vocab_size: int, target_vocab_size: int) -> "Shortlist | None":
        """The model's shortlist, or None when it has none; a damaged file is an error."""
        path = Path(directory) / FILE
        if not path.exists() and not path.is_symlink():
            return None
        rebuild = f"rebuild it with `seq2seq shortlist --model {directory} --data TRAIN`"
        text = read_regular_text(path, Seq2SeqError, "shortlist file", within=directory)
        try:
            payload = json.loads(text)
            frequent, candidates = _whole_numbers(payload["frequent"]), _whole_numbers(payload["candidates"])
        except (ValueError, KeyError, TypeError, RecursionError, OverflowError) as error:
            raise Seq2SeqError(f"{path}: not a shortlist file ({error}); {rebuild}") from None
        if (payload.get("format") != FORMAT or candidates.ndim != 2
                or candidates.shape[0] != source_vocab_size or frequent.ndim != 1
                or frequent.size == 0 or (frequent < 0).any() or (frequent >= target_vocab_size).any()
                or (candidates >= target_vocab_size).any() or (candidates < -1).any()):
            raise Seq2SeqError(f"{path}: does not fit this model (source vocabulary {source_vocab_size}, "
                               f"target vocabulary {target_vocab_size}); rebuild it with "
                               f"`seq2seq shortlist --model {directory} --data TRAIN`")
        return cls(frequent, candidates)


def _whole_numbers(values) -> np.ndarray:
    """`values` as int64 numbers; ValueError for anything else (floats, 10**30, strings, ragged lists)."""
    array = np.asarray(values)
    if array.size == 0:
        return array.astype(np.int64)
    if array.dtype.kind not in "iu" or (array.dtype.kind == "u" and array.max() > np.iinfo(np.int64).max):
        raise ValueError(f"expected whole numbers that fit 64 bits, got {array.dtype} values")
    return array.astype(np.int64)
