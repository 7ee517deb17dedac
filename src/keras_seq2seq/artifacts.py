"""The saved model directory: everything `translate`, `evaluate` and the API need, nothing else.

    runs/my-model/
      model.keras          the Keras model (weights, architecture, optimizer state)
      source_vocab.json    source vocabulary
      target_vocab.json    target vocabulary
      config.json          settings, tokenisers, data description, versions, training record

Every file is written to a temporary name in the same directory and renamed into place, so a
crash mid-save leaves the previous file whole. `config.json` is written last: a directory without
it is not a finished model. Models are loaded with Keras `safe_mode`, so a file carrying a Lambda
layer or other code is refused.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras

from keras_seq2seq.errors import ModelFileError

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
SOURCE_VOCAB_FILE = "source_vocab.json"
TARGET_VOCAB_FILE = "target_vocab.json"
FORMAT = "keras-seq2seq-model"
FORMAT_VERSION = 1


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` via a temporary file and `os.replace`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def read_text_file(path: Path, error: type[Exception], what: str = "file") -> str:
    """UTF-8 text of `path` (a BOM is dropped); anything wrong raises `error` naming the path."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except UnicodeDecodeError as bad:
        raise error(f"{path}: not valid UTF-8 ({bad.reason} at byte {bad.start})") from None
    except OSError as bad:
        raise error(f"{path}: cannot read ({bad.strerror})") from None


def save_keras_model(model: keras.Model, directory: Path) -> None:
    """Save `model` as `directory/model.keras`, atomically."""
    directory = Path(directory)
    # Keras insists on the .keras suffix, so the temporary name keeps it.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".model.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, directory / MODEL_FILE)
    except BaseException:
        _remove_quietly(tmp)
        raise


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
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a keras-seq2seq model config (format should be {FORMAT!r})")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {version!r}, this keras-seq2seq reads version "
            f"{FORMAT_VERSION}; use the keras-seq2seq release that wrote it, or retrain"
        )
    return config


def load_keras_model(directory: Path) -> keras.Model:
    """Load `model.keras` with `safe_mode=True`; any failure becomes a `ModelFileError`."""
    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise ModelFileError(f"{path}: missing model file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a .keras archive (truncated or corrupted?)")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" in str(error) or "lambda" in str(error).lower():
            raise ModelFileError(f"{path}: refused, it contains code (safe_mode): {error}") from None
        raise ModelFileError(f"{path}: cannot be loaded: {error}") from None
    except Exception as error:  # corrupted archives raise many types (zip, h5, json, key errors)
        raise ModelFileError(f"{path}: cannot be loaded ({type(error).__name__}: {error})") from None


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
