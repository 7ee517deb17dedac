"""SentencePiece subwords: a tokeniser learnt from the training side of the corpus.

A word vocabulary either grows with the corpus or sends every rare word to `<unk>`. Subwords
(Sennrich et al., 2016; Kudo, 2018) keep a fixed number of pieces, frequent words whole and rare
words split into known parts ("▁des" "cubri" "mos"), so nothing in the training text is unknown
and the vocabulary stays small enough for a fast output layer.

How it fits the rest of the toolkit: the tokeniser's pieces *are* the vocabulary. SentencePiece
is trained with `<pad>`, `<unk>`, `<bos>` and `<eos>` at ids 0..3, exactly where `Vocabulary`
keeps them, so `Vocabulary(tokenizer.pieces)` gives every piece the id SentencePiece gives it,
and batching, search and the saved vocabularies work unchanged.

Exact detokenisation: our own `prepare` normalises the text (NFC, optional lowercase, single
spaces) and SentencePiece's normaliser is switched off ("identity"), so for any prepared text
`detokenize(tokenize(text)) == text`, accents, CJK and punctuation included.

The trained model (a small binary protobuf) lives in the model directory; its file name is part
of the tokenizer's settings in `config.json`. `sentencepiece` is imported only when a subword
tokeniser is made, so word- and character-level runs never load it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Sequence

from keras_seq2seq.config import SUBWORD_MODELS
from keras_seq2seq.errors import ConfigError, ModelFileError
from keras_seq2seq.files import atomic_write_bytes
from keras_seq2seq.text.tokenizers import Tokenizer
from keras_seq2seq.text.vocabulary import BOS, BOS_ID, EOS, EOS_ID, PAD, PAD_ID, UNK, UNK_ID

# Model file names inside a model directory: one per side, or one shared by both.
SOURCE_MODEL_FILE = "source_sentencepiece.model"
TARGET_MODEL_FILE = "target_sentencepiece.model"
JOINT_MODEL_FILE = "sentencepiece.model"
# SentencePiece's result depends on its thread count, so it is fixed (not the machine's cores):
# the same corpus and options give the same model file everywhere.
TRAINING_THREADS = 2
TRAINING_SEED = 1
# Larger corpora are sampled (seeded) down to this many sentences, so training stays at seconds
# (timings in docs/performance.md).
MAX_TRAINING_SENTENCES = 200_000


class SentencePieceTokenizer(Tokenizer):
    """Subword pieces from a trained SentencePiece model (unigram or BPE).

    Args:
        model_proto: the serialised SentencePiece model (the bytes of a `.model` file).
        model_file: its file name inside a model directory.
        lowercase, normalize: as for every tokeniser, applied before SentencePiece sees the text.

    Examples:
    >>> tokenizer = SentencePieceTokenizer.train(["¿Dónde está el baño?"] * 50, vocab_size=40)
    >>> pieces = tokenizer.tokenize("¿Dónde está?")
    >>> tokenizer.detokenize(pieces)
    '¿Dónde está?'
    """

    kind = "sentencepiece"

    def __init__(self, model_proto: bytes, model_file: str = JOINT_MODEL_FILE,
                 lowercase: bool = False, normalize: str | None = "NFC", convert: str | None = None):
        super().__init__(lowercase, normalize, convert)
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor()
        try:
            processor.LoadFromSerializedProto(model_proto)
        except (RuntimeError, OSError) as error:
            raise ValueError(f"not a SentencePiece model ({_first_line(error)})") from None
        reserved = [processor.id_to_piece(i) for i in range(min(4, processor.get_piece_size()))]
        if reserved != [PAD, UNK, BOS, EOS]:
            raise ValueError(f"a SentencePiece model for keras-seq2seq starts with "
                             f"{[PAD, UNK, BOS, EOS]}, this one with {reserved}")
        self.model_proto = bytes(model_proto)
        self.model_file = model_file
        self._processor = processor

    # ------------------------------------------------------------------------- training
    @classmethod
    def train(cls, texts: Sequence[str], vocab_size: int = 8000, model_type: str = "unigram",
              model_file: str = JOINT_MODEL_FILE, lowercase: bool = False,
              normalize: str | None = "NFC", convert: str | None = None) -> "SentencePieceTokenizer":
        """Learn up to `vocab_size` pieces (the 4 reserved ones included) from `texts`, in memory.

        `vocab_size` is an upper bound: a small corpus gets as many pieces as it supports.
        Raises `ConfigError` when `vocab_size` cannot even hold every character of the text.
        """
        import sentencepiece

        if model_type not in SUBWORD_MODELS:
            raise ConfigError(f"subword_model must be one of {SUBWORD_MODELS}, got {model_type!r}")
        shaper = Tokenizer(lowercase, normalize, convert)
        sentences = [line for line in (shaper.prepare(text) for text in texts) if line]
        if not sentences:
            raise ConfigError("cannot train SentencePiece: the training text is empty")
        model = io.BytesIO()
        sentencepiece.set_random_generator_seed(TRAINING_SEED)  # the sampling of large corpora
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences), model_writer=model,
                model_type=model_type, vocab_size=vocab_size,
                hard_vocab_limit=False,                 # fewer pieces if the text has no more
                character_coverage=1.0,                 # every character seen is a piece: no <unk> in training text
                normalization_rule_name="identity",     # `prepare` normalises; decoding is then exact
                pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
                pad_piece=PAD, unk_piece=UNK, bos_piece=BOS, eos_piece=EOS,
                unk_surface=UNK,                        # an unknown piece reads "<unk>", as for words
                input_sentence_size=MAX_TRAINING_SENTENCES, shuffle_input_sentence=True,
                num_threads=TRAINING_THREADS, minloglevel=2,
            )
        except RuntimeError as error:
            raise ConfigError(_training_error(error, vocab_size)) from None
        return cls(model.getvalue(), model_file, lowercase, normalize, convert)

    # ------------------------------------------------------------------- text ⇄ pieces
    @property
    def pieces(self) -> list[str]:
        """Every piece in id order: `<pad> <unk> <bos> <eos>` first, as `Vocabulary` wants."""
        return [self._processor.id_to_piece(i) for i in range(self._processor.get_piece_size())]

    def tokenize(self, text: str) -> list[str]:
        return self._processor.encode(self.prepare(text), out_type=str)

    def detokenize(self, tokens: list[str]) -> str:
        """Pieces back to text: "▁" marks where a space was."""
        return self._processor.decode_pieces(list(tokens))

    # -------------------------------------------------------------------------- files
    def get_config(self) -> dict:
        return {**super().get_config(), "model_file": self.model_file}

    def save(self, directory: str | Path) -> None:
        """Write the model to `directory/model_file` atomically."""
        atomic_write_bytes(Path(directory) / self.model_file, self.model_proto)

    @classmethod
    def load(cls, directory: str | Path, model_file: str, lowercase: bool = False,
             normalize: str | None = "NFC", convert: str | None = None) -> "SentencePieceTokenizer":
        """The tokeniser saved in `directory`; `ModelFileError` naming the file if it is unusable."""
        if not isinstance(model_file, str) or not model_file:
            raise ModelFileError(f"{directory}: the SentencePiece model_file setting must be a file name, "
                                 f"got {model_file!r}")
        path = Path(directory) / model_file
        if Path(model_file).name != model_file:
            raise ModelFileError(f"{path}: a SentencePiece model file must sit in the model directory")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ModelFileError(f"{path}: SentencePiece model file not found") from None
        except OSError as error:
            raise ModelFileError(f"{path}: cannot read ({error.strerror})") from None
        try:
            return cls(data, model_file, lowercase, normalize, convert)
        except ValueError as error:
            raise ModelFileError(f"{path}: {error} (truncated or corrupted?)") from None


def train_subword_tokenizers(text, sources: Sequence[str], targets: Sequence[str]) -> dict:
    """SentencePiece tokenisers for the sides of `text` (a `TextSettings`) that ask for one.

    Returns `{"source": tokenizer, "target": tokenizer}` with only the subword sides. With
    `text.joint_vocab`, one model is learnt from both sides and both tokenisers share it.
    """
    sides = {"source": (text.source_tokenizer, sources), "target": (text.target_tokenizer, targets)}
    wanted = {side: config for side, (config, _) in sides.items()
              if config.get("kind") == SentencePieceTokenizer.kind}
    options = dict(vocab_size=text.vocab_size, model_type=text.subword_model)
    if text.joint_vocab:
        # Each side's text shaped by its own tokeniser's rules, then one model learnt from both.
        shaped = [Tokenizer(**_shaping(config)).prepare(line)
                  for config, lines in sides.values() for line in lines]
        shared = SentencePieceTokenizer.train(shaped, model_file=JOINT_MODEL_FILE, **options)
        return {side: SentencePieceTokenizer(shared.model_proto, JOINT_MODEL_FILE, **_shaping(config))
                for side, config in wanted.items()}
    files = {"source": SOURCE_MODEL_FILE, "target": TARGET_MODEL_FILE}
    return {side: SentencePieceTokenizer.train(sides[side][1], model_file=files[side],
                                               **options, **_shaping(config))
            for side, config in wanted.items()}


def _shaping(config: dict) -> dict:
    return {"lowercase": bool(config.get("lowercase", False)), "normalize": config.get("normalize", "NFC"),
            "convert": config.get("convert")}


def _training_error(error: RuntimeError, vocab_size: int) -> str:
    message = str(error)
    too_small = re.search(r"smaller than required_chars\. (\d+) vs (\d+)", message)
    if too_small:
        return (f"vocab_size {vocab_size} is too small for this text: SentencePiece needs a piece for "
                f"each of its characters plus the 4 reserved tokens; use a vocab_size of at least "
                f"{too_small.group(2)}")
    return f"SentencePiece training failed: {_first_line(error)}"


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
