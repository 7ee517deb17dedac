"""Vocabulary: tokens ⇄ ids, with four reserved ids every model relies on.

    0 <pad>   padding; masked out of the loss and of the encoder
    1 <unk>   any token not in the vocabulary
    2 <bos>   first decoder input
    3 <eos>   end of every target; generation stops on it

Saved as JSON (a list of tokens in id order), never pickled, so a vocabulary is readable and
cannot carry code.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

from keras_seq2seq.errors import VocabularyError
from keras_seq2seq.files import atomic_write_text, read_regular_text

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
RESERVED = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)
FORMAT = "keras-seq2seq-vocabulary"
FORMAT_VERSION = 1
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Vocabulary:
    """An ordered token list; the reserved tokens come first."""

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[:4]) != RESERVED:
            raise VocabularyError(f"a vocabulary must start with {list(RESERVED)}, got {tokens[:4]}")
        index: dict[str, int] = {}
        for i, token in enumerate(tokens):
            if not isinstance(token, str) or token == "":
                raise VocabularyError(f"token {i} is not a non-empty string: {token!r}")
            if _LONE_SURROGATE.search(token):  # it could never be saved as UTF-8
                raise VocabularyError(f"token {i} contains a lone surrogate, not text: {token!r}")
            if token in index:
                raise VocabularyError(f"token {token!r} appears twice (ids {index[token]} and {i})")
            index[token] = i
        self._tokens = tokens
        self._index = index

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_freq: int = 1,
              max_size: int | None = None) -> "Vocabulary":
        """Most frequent first (ties by token, so builds are repeatable); `max_size` counts the reserved four."""
        return cls.from_counts(Counter(token for tokens in token_lists for token in tokens), min_freq, max_size)

    @classmethod
    def from_counts(cls, counts: Counter, min_freq: int = 1, max_size: int | None = None) -> "Vocabulary":
        """As `build`, from token counts already made (a streamed corpus counts as it reads)."""
        if max_size is not None and max_size < len(RESERVED):
            raise VocabularyError(f"max_size must be at least {len(RESERVED)}, got {max_size}")
        ranked = sorted((t for t, c in counts.items() if c >= min_freq and t not in RESERVED),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max_size - len(RESERVED)]
        return cls(list(RESERVED) + ranked)

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"

    @property
    def tokens(self) -> list[str]:
        return list(self._tokens)

    def token_to_id(self, token: str) -> int:
        return self._index.get(token, UNK_ID)

    def id_to_token(self, token_id: int) -> str:
        if not 0 <= token_id < len(self._tokens):
            raise VocabularyError(f"id {token_id} is outside the vocabulary (0..{len(self._tokens) - 1})")
        return self._tokens[token_id]

    def encode(self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        ids = [self._index.get(token, UNK_ID) for token in tokens]
        return ([BOS_ID] if add_bos else []) + ids + ([EOS_ID] if add_eos else [])

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens up to the first `<eos>`; padding and `<bos>` are dropped, unknowns read `<unk>`."""
        tokens = []
        for token_id in ids:
            token_id = int(token_id)
            if token_id == EOS_ID:
                break
            if token_id not in (PAD_ID, BOS_ID):
                tokens.append(self.id_to_token(token_id))
        return tokens

    # ------------------------------------------------------------------------- JSON
    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": FORMAT_VERSION, "tokens": self._tokens},
                          ensure_ascii=False, indent=0)

    @classmethod
    def from_json(cls, text: str, source: str = "vocabulary") -> "Vocabulary":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise VocabularyError(f"{source}: not valid JSON (line {error.lineno}: {error.msg})") from None
        except (ValueError, RecursionError) as error:  # a 5,000-digit number; arrays nested 10,000 deep
            raise VocabularyError(f"{source}: not a vocabulary ({type(error).__name__}: {error})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise VocabularyError(f"{source}: not a keras-seq2seq vocabulary (no \"format\": \"{FORMAT}\")")
        if data.get("version") != FORMAT_VERSION:
            raise VocabularyError(f"{source}: vocabulary format version {data.get('version')!r} is not supported")
        tokens = data.get("tokens")
        if not isinstance(tokens, list):
            raise VocabularyError(f"{source}: \"tokens\" must be a list")
        try:
            return cls(tokens)
        except VocabularyError as error:
            raise VocabularyError(f"{source}: {error}") from None

    def save(self, path: str | Path) -> None:
        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path, within: str | Path | None = None) -> "Vocabulary":
        """The vocabulary saved at `path`, a regular file (inside the directory `within`)."""
        text = read_regular_text(Path(path), VocabularyError, what="vocabulary file", within=within)
        return cls.from_json(text, source=str(path))
