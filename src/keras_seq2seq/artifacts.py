"""The saved model directory: everything `translate`, `evaluate` and the API need, nothing else.

    runs/my-model/
      model.keras          the Keras model (weights, architecture, optimizer state)
      source_vocab.json    source vocabulary
      target_vocab.json    target vocabulary
      *sentencepiece.model SentencePiece subword model(s), only with the sentencepiece tokenizer
      README.md            the model card: data, settings, scores with their signatures, training
      train.yaml           the options that made it (`seq2seq train --config` reads it back)
      config.json          settings, tokenisers, data description, versions, training record

Every file is written to a temporary name in the same directory and renamed into place, so a
crash mid-save leaves the previous file whole. `config.json` is written last: a directory without
it is not a finished model. Models are loaded with Keras `safe_mode`, so a file carrying a Lambda
layer or other code is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from keras_seq2seq import model_card, run_config
from keras_seq2seq.architectures import MODEL_CLASSES
from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.config import Settings
from keras_seq2seq.errors import ConfigError, ModelFileError, Seq2SeqError, VocabularyError
from keras_seq2seq.files import atomic_write_text
from keras_seq2seq.model_archive import MODEL_FILE, first_line, load_keras_model, save_keras_model
from keras_seq2seq.search.shortlist import FILE as SHORTLIST_FILE
from keras_seq2seq.search.shortlist import Shortlist
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.subwords import SentencePieceTokenizer
from keras_seq2seq.text.tokenizers import Tokenizer
from keras_seq2seq.text.vocabulary import Vocabulary

CONFIG_FILE = "config.json"
RUN_FILE = "train.yaml"
SOURCE_VOCAB_FILE = "source_vocab.json"
TARGET_VOCAB_FILE = "target_vocab.json"
FORMAT = "keras-seq2seq-model"
FORMAT_VERSION = 1


def write_config(directory: Path, config: dict) -> None:
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, **config}
    atomic_write_text(Path(directory) / CONFIG_FILE, json.dumps(config, indent=2, ensure_ascii=False) + "\n")


def read_config(directory: Path) -> dict:
    """The directory's `config.json`, checked for format and version."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelFileError(f"{directory}: no such model directory")
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise ModelFileError(f"{path}: missing; {directory} is not a finished keras-seq2seq model directory")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:  # bad JSON or UTF-8, 5,000-digit numbers, deep nesting
        raise ModelFileError(f"{path}: not valid JSON ({first_line(str(error))})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a keras-seq2seq model config (format should be {FORMAT!r})")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {version!r}, this keras-seq2seq reads version "
            f"{FORMAT_VERSION}; use the keras-seq2seq release that wrote it, or retrain"
        )
    if not isinstance(config.get("settings", {}), dict):
        raise ModelFileError(f"{path}: \"settings\" must be a JSON object")
    return config




# Keys of config.json that are the directory's own; the rest is the bundle's `info`.
_OWN_KEYS = ("format", "format_version", "versions", "settings", "source_vocab_size", "target_vocab_size")


def save_bundle(bundle: ModelBundle, directory: str | Path) -> None:
    """Write the model directory (each file atomically; `config.json` last)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    subword_models = {t.model_file: t for t in (bundle.source_tokenizer, bundle.target_tokenizer)
                      if isinstance(t, SentencePieceTokenizer)}
    for tokenizer in subword_models.values():  # one file when the vocabulary is joint
        tokenizer.save(directory)
    bundle.source_vocab.save(directory / SOURCE_VOCAB_FILE)
    bundle.target_vocab.save(directory / TARGET_VOCAB_FILE)
    if bundle.shortlist is not None:
        bundle.shortlist.save(directory)
    else:  # a stale one from an earlier run into this directory must not be loaded with this model
        (directory / SHORTLIST_FILE).unlink(missing_ok=True)
    save_keras_model(bundle.model, directory)
    write_description(bundle, directory)


def write_description(bundle: ModelBundle, directory: str | Path) -> None:
    """Write what describes the model: the card, the run's options, then `config.json` (last).
    Also on its own, when only the record changed (a test score added after training)."""
    directory = Path(directory)
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, **bundle_config(bundle)}
    options = run_config.dump(run_config.run_options(config),
                              header="The options that made this model: seq2seq train --config train.yaml --out DIR")
    atomic_write_text(directory / RUN_FILE, options)
    atomic_write_text(directory / model_card.FILE, model_card.render(config, str(directory), options))
    write_config(directory, bundle_config(bundle))


def bundle_config(bundle: ModelBundle) -> dict:
    """What config.json says of `bundle`: versions, settings, vocabulary sizes, and its info."""
    import keras

    from keras_seq2seq import __version__

    versions = {"keras_seq2seq": __version__, "keras": keras.__version__, "backend": keras.backend.backend()}
    return {"versions": versions, "settings": bundle.settings.to_dict(),
            "source_vocab_size": len(bundle.source_vocab), "target_vocab_size": len(bundle.target_vocab),
            **bundle.info}


def load_bundle(directory: str | Path) -> ModelBundle:
    """Load a model directory written by `save_bundle`; clear `ModelFileError`s for anything wrong."""
    directory = Path(directory)
    config = read_config(directory)
    try:
        settings = Settings.from_dict(config.get("settings", {}))
        source_vocab = Vocabulary.load(directory / SOURCE_VOCAB_FILE)
        target_vocab = Vocabulary.load(directory / TARGET_VOCAB_FILE)
        source_tok = tokenizer_from_config(settings.text.source_tokenizer, directory)
        target_tok = tokenizer_from_config(settings.text.target_tokenizer, directory)
    except (ConfigError, VocabularyError) as error:
        raise ModelFileError(f"{directory}: {error}") from None
    _check_subwords(directory, source_tok, source_vocab, SOURCE_VOCAB_FILE)
    _check_subwords(directory, target_tok, target_vocab, TARGET_VOCAB_FILE)
    model = load_keras_model(directory)
    if not isinstance(model, MODEL_CLASSES):
        raise ModelFileError(f"{directory / MODEL_FILE}: holds a {type(model).__name__}, not a Seq2Seq or "
                             "Transformer model")
    if (model.source_vocab_size, model.target_vocab_size) != (len(source_vocab), len(target_vocab)):
        raise ModelFileError(
            f"{directory}: the vocabularies ({len(source_vocab)}/{len(target_vocab)} tokens) do not "
            f"match the model ({model.source_vocab_size}/{model.target_vocab_size}); files from different runs?"
        )
    info = {key: value for key, value in config.items() if key not in _OWN_KEYS}
    # Devices belong to a training run, not to the model (its record keeps the count): a
    # loaded model fits on one device, wherever it was trained, unless told otherwise.
    settings.train.devices = 1
    try:
        shortlist = Shortlist.load(directory, len(source_vocab), len(target_vocab))
    except Seq2SeqError as error:
        raise ModelFileError(str(error)) from None
    return ModelBundle(model, settings, source_vocab, target_vocab, source_tok, target_tok, shortlist, info)


def _check_subwords(directory: Path, tokenizer: Tokenizer, vocab: Vocabulary, vocab_file: str) -> None:
    """A SentencePiece model and its vocabulary must agree piece for piece (ids are shared)."""
    if isinstance(tokenizer, SentencePieceTokenizer) and tokenizer.pieces != vocab.tokens:
        raise ModelFileError(f"{directory / tokenizer.model_file}: its pieces do not match {vocab_file}; "
                             f"files from different runs?")
