"""Tokenisers: text → tokens for the vocabulary, and tokens → readable text again.

Two fixed kinds, chosen per side in the settings and saved in the model's config (a third,
`sentencepiece`, is learnt from the corpus: see `subwords.py`):

- `char`: every character is a token (spaces included), so any text round-trips exactly.
- `word`: words, numbers and punctuation marks are separate tokens. Internal apostrophes and
  hyphens stay inside a word ("don't", "well-known"), numbers keep their separators ("3.14",
  "1,000"), and Chinese or Japanese text, written without spaces, is split per character.

Both apply Unicode normalisation (NFC by default), an optional Chinese script conversion
(`convert="t2s"`: Traditional to Simplified, see `scripts.py`) and optional lowercasing first,
so the same sentence typed two ways maps to the same ids.
"""

from __future__ import annotations

import re
import unicodedata

from keras_seq2seq.errors import ConfigError
from keras_seq2seq.text.scripts import check_conversion, converter


# Scripts written without spaces between words: one token per character in word mode.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff60"


def _mark_ranges() -> str:
    """Combining marks of the Basic Multilingual Plane as a regex class body (accents, vowel signs).

    `re` has no `\\p{M}`, and `\\w` excludes marks, so without this "é" typed as e + U+0301,
    or Hindi vowel signs, would split words apart.
    """
    ranges, start = [], None
    for code in range(0x0300, 0x10000):
        is_mark = unicodedata.category(chr(code)).startswith("M")
        if is_mark and start is None:
            start = code
        elif not is_mark and start is not None:
            ranges.append(f"\\u{start:04x}-\\u{code - 1:04x}")
            start = None
    return "".join(ranges)


_WORD_CHAR = rf"[^\W_{_CJK}]"
_WORD_PART = rf"{_WORD_CHAR}[{_mark_ranges()}]*"
_WORD_TOKEN = re.compile(
    rf"\d+(?:[.,:]\d+)+"                        # 3.14, 1,000, 10:30
    rf"|(?:{_WORD_PART})+(?:['’\-](?:{_WORD_PART})+)*"  # words, with internal ' ’ -
    rf"|\.{{2,}}"                               # an ellipsis typed as dots
    rf"|\S",                                    # any other mark, and each CJK character
)
_CJK_CHAR = re.compile(rf"[{_CJK}]")

# Detokenisation: no space before these, none after those.
_NO_SPACE_BEFORE = set(".,!?;:%)]}»…’”") | {"..."}
_NO_SPACE_AFTER = set("¿¡([{«“‘$#")
_QUOTES = {'"', "'"}
_NORMALIZATIONS = (None, "NFC", "NFKC", "NFD", "NFKD")


class Tokenizer:
    """Base class: normalisation shared by both kinds; subclasses split and join."""

    kind = ""

    def __init__(self, lowercase: bool = False, normalize: str | None = "NFC", convert: str | None = None):
        if normalize not in _NORMALIZATIONS:
            raise ConfigError(f"normalize must be one of {_NORMALIZATIONS}, got {normalize!r}")
        check_conversion(convert)
        self.lowercase = bool(lowercase)
        self.normalize = normalize
        self.convert = convert
        self._convert = converter(convert) if convert else None  # fails now if opencc is missing

    def prepare(self, text: str) -> str:
        """Normalise, convert the Chinese script if asked, lowercase if asked, collapse whitespace."""
        if self.normalize:
            text = unicodedata.normalize(self.normalize, text)
        if self._convert:
            text = self._convert(text)
        if self.lowercase:
            text = text.lower()
        return " ".join(text.split())

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def detokenize(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def get_config(self) -> dict:
        config = {"kind": self.kind, "lowercase": self.lowercase, "normalize": self.normalize}
        return {**config, "convert": self.convert} if self.convert else config  # older models: no key

    def __repr__(self) -> str:
        converted = f", convert={self.convert!r}" if self.convert else ""
        return f"{type(self).__name__}(lowercase={self.lowercase}, normalize={self.normalize!r}{converted})"


class CharTokenizer(Tokenizer):
    """One token per character, the space included: exact round trips for any alphabet."""

    kind = "char"

    def tokenize(self, text: str) -> list[str]:
        return list(self.prepare(text))

    def detokenize(self, tokens: list[str]) -> str:
        return " ".join("".join(tokens).split())


class WordTokenizer(Tokenizer):
    """Words, numbers and punctuation marks as tokens; CJK text per character."""

    kind = "word"

    def tokenize(self, text: str) -> list[str]:
        return _WORD_TOKEN.findall(self.prepare(text))

    def detokenize(self, tokens: list[str]) -> str:
        """Join with the spacing a reader expects: "¿ Qué ?" reads back as "¿Qué?"."""
        pieces: list[str] = []
        glue_next = True  # no space before the first token
        open_quote = {q: False for q in _QUOTES}
        previous = ""
        for token in tokens:
            if token in _QUOTES:
                closing = open_quote[token]
                open_quote[token] = not closing
                glue = glue_next or closing
                glue_next = not closing
            else:
                glue = glue_next or token in _NO_SPACE_BEFORE or (
                    _CJK_CHAR.match(token) is not None and _CJK_CHAR.match(previous[-1:]) is not None
                )
                glue_next = token in _NO_SPACE_AFTER
            pieces.append(token if glue else " " + token)
            previous = token
        return "".join(pieces)


KINDS = {cls.kind: cls for cls in (CharTokenizer, WordTokenizer)}


SUBWORD_KIND = "sentencepiece"  # learnt from the corpus: see text/subwords.py
