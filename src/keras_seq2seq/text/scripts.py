"""Chinese script conversion: Traditional ⇄ Simplified characters, through OpenCC.

Why: Tatoeba's Chinese side mixes both scripts (nearly half of the cmn-eng lines hold
Traditional characters; docs/training.md has the counts), so "这个" and "這個" are different
tokens that share no training data. Converting one side to one script before tokenising merges
them into a smaller character set. A tokeniser setting, `"convert": "t2s"`,
applies the conversion inside `Tokenizer.prepare`, so it runs alike in training, translation
and serving, and is saved with the model.

`opencc` comes with the `zh` extra (`pip install 'keras-seq2seq[zh]'`, extras.py), imported only
when a conversion is asked for.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

from keras_seq2seq.errors import ConfigError
from keras_seq2seq.extras import require

# OpenCC's configurations that this toolkit offers: Traditional → Simplified and back.
CONVERSIONS = ("t2s", "s2t")


def check_conversion(name: str | None) -> None:
    """`ConfigError` unless `name` is None or one of `CONVERSIONS`."""
    if name is not None and name not in CONVERSIONS:
        raise ConfigError(f"convert must be one of {CONVERSIONS} (OpenCC: Traditional→Simplified, "
                          f"Simplified→Traditional), got {name!r}")


@lru_cache(maxsize=None)
def converter(name: str) -> Callable[[str], str]:
    """The function that converts text with OpenCC's `name` configuration (e.g. "t2s")."""
    check_conversion(name)
    require("zh", f"converting Chinese scripts ({name})")
    import opencc

    return opencc.OpenCC(name).convert
