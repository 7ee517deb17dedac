"""The one place that turns a tokeniser's settings into a tokeniser, of any kind.

Kept apart from `tokenizers.py` (the fixed kinds) and `subwords.py` (SentencePiece, which builds
on the fixed kinds' base class) so that neither has to import the other.
"""

from __future__ import annotations

from keras_seq2seq.config import TOKENIZER_KINDS
from keras_seq2seq.errors import ConfigError
from keras_seq2seq.text.segmenters import JiebaTokenizer
from keras_seq2seq.text.subwords import SentencePieceTokenizer
from keras_seq2seq.text.tokenizers import KINDS, SUBWORD_KIND, Tokenizer

FIXED_KINDS = {**KINDS, JiebaTokenizer.kind: JiebaTokenizer}  # described by their settings alone


def tokenizer_from_config(config: dict, directory=None) -> Tokenizer:
    """The tokeniser a settings/config dict describes, e.g. `{"kind": "word", "lowercase": True}`
    or `{"kind": "jieba", "convert": "t2s"}` (Chinese words, Traditional converted to Simplified).

    A `sentencepiece` tokeniser is trained, not described: its config names a model file
    (`"model_file"`), loaded from the model `directory`.
    """
    config = dict(config or {})
    kind = config.pop("kind", "word")
    if kind not in TOKENIZER_KINDS:
        raise ConfigError(f"unknown tokenizer kind {kind!r}; choose one of {sorted(TOKENIZER_KINDS)}")
    unknown = set(config) - {"lowercase", "normalize", "convert"} - ({"model_file"} if kind == SUBWORD_KIND else set())
    if unknown:
        raise ConfigError(f"unknown tokenizer option(s) {sorted(unknown)} for kind {kind!r}")
    if kind == SUBWORD_KIND:
        if directory is None or "model_file" not in config:
            raise ConfigError("a sentencepiece tokenizer is trained on the corpus (Translator.create) "
                              "or loaded from a model directory whose config names its model_file")
        return SentencePieceTokenizer.load(directory, **config)
    return FIXED_KINDS[kind](**config)
