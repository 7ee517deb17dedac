"""`ModelBundle`: a model together with everything that turns text into its ids and back.

A trained `Seq2Seq` alone cannot translate: it reads and writes token ids. The bundle keeps the
model with its two tokenisers, its two vocabularies, the settings it was made with, its optional
vocabulary shortlist and a free-form `info` record (data description, training record). It is
what a model directory holds (`artifacts.save_bundle` / `load_bundle`), what training builds and
improves (`training/`), and what the `Translator` facade wraps.

A sentence's way in and out:

    >>> bundle.encode_source("¿Dónde está?")      # tokens -> ids
    array([ 57, 212,   9], dtype=int32)
    >>> bundle.decode_target([31, 8, 5, 3])         # ids -> tokens -> text; <eos> (3) ends it
    'Where is it'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from keras_seq2seq.config import Settings
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.tokenizers import Tokenizer
from keras_seq2seq.text.vocabulary import Vocabulary

DEFAULT_MAX_OUTPUT_LEN = 100  # output limit of a model whose settings set none (it was never trained)


@dataclass
class ModelBundle:
    """A `Seq2Seq` model and what it needs to read and write text.

    Attributes:
        model: the Keras model (`models.Seq2Seq`).
        settings: the `Settings` it was built and trained with.
        source_vocab, target_vocab: token <-> id maps of each side.
        source_tokenizer, target_tokenizer: text <-> tokens of each side (made from the
            settings when not given; trained SentencePiece tokenisers are passed in).
        shortlist: the vocabulary shortlist table (`search/shortlist.py`), or None.
        info: data description and training record, saved in `config.json`.
    """

    model: object
    settings: Settings
    source_vocab: Vocabulary
    target_vocab: Vocabulary
    source_tokenizer: Tokenizer | None = None
    target_tokenizer: Tokenizer | None = None
    shortlist: object | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.source_tokenizer is None:
            self.source_tokenizer = tokenizer_from_config(self.settings.text.source_tokenizer)
        if self.target_tokenizer is None:
            self.target_tokenizer = tokenizer_from_config(self.settings.text.target_tokenizer)

    @property
    def max_output_len(self) -> int:
        """Most tokens an output may have, `<eos>` included (training sets it from the data)."""
        return self.settings.max_output_len or DEFAULT_MAX_OUTPUT_LEN

    def encode_source(self, text: str) -> np.ndarray:
        return np.asarray(self.source_vocab.encode(self.source_tokenizer.tokenize(text)), np.int32)

    def encode_target(self, text: str) -> np.ndarray:
        """Target ids with `<eos>` appended (no `<bos>`: the batcher adds it for teacher forcing)."""
        return np.asarray(self.target_vocab.encode(self.target_tokenizer.tokenize(text), add_eos=True), np.int32)

    def encode_pair(self, source: str, target: str) -> tuple[np.ndarray, np.ndarray]:
        return self.encode_source(source), self.encode_target(target)

    def decode_target(self, ids: Sequence[int]) -> str:
        return self.target_tokenizer.detokenize(self.target_vocab.decode(ids))
