"""How to decode: one options object, checked once where it is made, used by every door.

The command line, the server and the Python API all turn what they were given into a
`SearchOptions`; the translator, the generators and the serving batcher then take it as it is.
A value out of range raises `InvalidOption`, which names the field, so each door can say it in
its own words: `--top-p must be in (0, 1], got 2` on the command line, `top_p: must be in (0, 1],
got 2` from the server (a 422), and the plain message in Python.

    >>> options = SearchOptions(beam_size=5, n_best=2, length_penalty=0.6)
    >>> options.replace(beam_size=1, n_best=1).is_greedy
    True
    >>> SearchOptions(sampling=Sampling(top_p=2.0))
    Traceback (most recent call last):
    ...
    keras_seq2seq.search.options.InvalidOption: top_p must be in (0, 1], got 2.0
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

from keras_seq2seq.errors import Seq2SeqError

# Largest GNMT length-penalty alpha: ((5 + length) / 6) ** alpha must stay a finite float32
# for outputs of hundreds of tokens (alpha 10 at 500 tokens is ~1e20; 600 overflows).
MAX_LENGTH_PENALTY = 10.0


class InvalidOption(Seq2SeqError, ValueError):
    """A search option out of range; `field` names it, `problem` says what is wrong with it."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Sampling:
    """Draw each token from the model's distribution instead of searching.

    Args:
        temperature: logits are divided by it; below 1 sharpens, above 1 flattens.
        top_k: draw from the k most likely tokens only (0: no limit).
        top_p: draw from the smallest set of tokens holding this much probability (nucleus).
    """

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0

    def __post_init__(self):
        if not (_is_number(self.temperature) and math.isfinite(self.temperature) and self.temperature > 0):
            raise InvalidOption("temperature", f"must be > 0, got {self.temperature!r}")
        if not _is_whole(self.top_k) or self.top_k < 0:
            raise InvalidOption("top_k", f"must be a whole number >= 0 (0: no limit), got {self.top_k!r}")
        if not (_is_number(self.top_p) and 0 < self.top_p <= 1):
            raise InvalidOption("top_p", f"must be in (0, 1], got {self.top_p!r}")

    @classmethod
    def of(cls, value: "Sampling | dict | None") -> "Sampling | None":
        """A `Sampling` from itself, a dict such as `{"temperature": 0.8, "top_p": 0.9}`, or None."""
        if value is None or isinstance(value, Sampling):
            return value
        if not isinstance(value, dict):
            raise InvalidOption("sampling", f"must be a dict of temperature/top_k/top_p, got {value!r}")
        unknown = set(value) - {"temperature", "top_k", "top_p"}
        if unknown:
            raise InvalidOption("sampling", f"has unknown option(s) {sorted(unknown)}")
        return cls(**value)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SearchOptions:
    """Everything that says how outputs are searched for, checked when made.

    Args:
        beam_size: hypotheses kept per sentence; 1 is greedy search.
        n_best: outputs returned per sentence, best first (at most `beam_size`); asking for
            fewer lets beam search stop a sentence once those are final.
        length_penalty: GNMT length penalty alpha for beam search (0: raw log-probability).
        sampling: draw tokens instead of searching (`Sampling`); needs `beam_size` 1.
        seed: seeds sampling; the same seed and inputs repeat the same outputs.
        no_repeat_ngram: n > 0 forbids any output from repeating one of its own n-grams.
        shortlist: score only this many likely target words per batch (0: the whole
            vocabulary); greedy and beam search only, and the model needs its shortlist table.
        replace_unk: copy, for every `<unk>` output, the source token attended to most (attention
            models).
        attention: also return the attention weights of each output (attention models).
        max_length: most output tokens, `<eos>` included (None: the model's own limit).
    """

    beam_size: int = 1
    n_best: int = 1
    length_penalty: float = 0.0
    sampling: Sampling | None = None
    seed: int = 0
    no_repeat_ngram: int = 0
    shortlist: int = 0
    replace_unk: bool = False
    attention: bool = False
    max_length: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "sampling", Sampling.of(self.sampling))
        if not _is_whole(self.beam_size) or self.beam_size < 1:
            raise InvalidOption("beam_size", f"must be a whole number >= 1, got {self.beam_size!r}")
        if not _is_whole(self.n_best) or not 1 <= self.n_best <= self.beam_size:
            raise InvalidOption("n_best", f"must be between 1 and beam_size ({self.beam_size}), got {self.n_best!r}")
        if not (_is_number(self.length_penalty) and 0 <= self.length_penalty <= MAX_LENGTH_PENALTY):
            raise InvalidOption("length_penalty", f"must be a number in [0, {MAX_LENGTH_PENALTY:g}], "
                                                  f"got {self.length_penalty!r}")
        if not _is_whole(self.seed) or self.seed < 0:
            raise InvalidOption("seed", f"must be a whole number >= 0, got {self.seed!r}")
        if not _is_whole(self.no_repeat_ngram) or self.no_repeat_ngram < 0:
            raise InvalidOption("no_repeat_ngram", f"must be 0 (off) or an n-gram size, got {self.no_repeat_ngram!r}")
        if not _is_whole(self.shortlist) or self.shortlist < 0:
            raise InvalidOption("shortlist", f"must be 0 (off) or a number of words, got {self.shortlist!r}")
        if self.max_length is not None and (not _is_whole(self.max_length) or self.max_length < 1):
            raise InvalidOption("max_length", f"must be a whole number >= 1, got {self.max_length!r}")
        if self.sampling is not None and self.beam_size != 1:
            raise InvalidOption("beam_size", f"must be 1 with sampling (a draw gives one output per "
                                             f"sentence), got {self.beam_size}")
        if self.shortlist and not self.shortlist_applies:
            raise InvalidOption("shortlist", "is for greedy and beam search; it cannot be combined with "
                                             "sampling or no_repeat_ngram")
        object.__setattr__(self, "length_penalty", float(self.length_penalty))

    @property
    def is_greedy(self) -> bool:
        return self.beam_size == 1 and self.sampling is None

    @property
    def shortlist_applies(self) -> bool:
        """A shortlist serves greedy and beam search; sampling and n-gram blocking see every word."""
        return self.sampling is None and not self.no_repeat_ngram

    def replace(self, **changes) -> "SearchOptions":
        """A copy with `changes`, checked like a new one."""
        return dataclasses.replace(self, **changes)

    def with_default_shortlist(self, size: int) -> "SearchOptions":
        """These options with a model's default shortlist size (`Translator.use_shortlist`),
        where none was asked for and the search can use one."""
        if self.shortlist or not size or not self.shortlist_applies:
            return self
        return self.replace(shortlist=size)

    def program(self) -> tuple:
        """What a compiled search program depends on: equal keys share one program.

        The values of `n_best`, `length_penalty`, `temperature`, `top_k`, `top_p` and `seed` are
        inputs of the program (`search/generator.py`), so they are not part of the key; only
        whether top-k or top-p filtering happens at all is. A server therefore compiles one
        program per beam size (and per sampling filter, attention, ...), whatever values its
        clients send.
        """
        sampling = None
        if self.sampling is not None:
            sampling = (self.sampling.top_k > 0, self.sampling.top_p < 1.0)
        return (self.beam_size, sampling, self.no_repeat_ngram, self.shortlist, self.attention,
                self.max_length)


def _is_whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
