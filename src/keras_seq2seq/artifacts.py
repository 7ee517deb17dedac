"""The saved model directory: everything `translate`, `evaluate` and the API need, nothing else.

    runs/my-model/
      model.keras          the Keras model (weights, architecture, optimizer state)
      source_vocab.json    source vocabulary
      target_vocab.json    target vocabulary
      *sentencepiece.model SentencePiece subword model(s), only with the sentencepiece tokenizer
      config.json          settings, tokenisers, data description, versions, training record

Every file is written to a temporary name in the same directory and renamed into place, so a
crash mid-save leaves the previous file whole. `config.json` is written last: a directory without
it is not a finished model. Models are loaded with Keras `safe_mode`, so a file carrying a Lambda
layer or other code is refused.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from keras_seq2seq.errors import ModelFileError

if TYPE_CHECKING:  # Keras loads in load_keras_model: the text helpers here serve `seq2seq --help` too
    import keras

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
SOURCE_VOCAB_FILE = "source_vocab.json"
TARGET_VOCAB_FILE = "target_vocab.json"
FORMAT = "keras-seq2seq-model"
FORMAT_VERSION = 1


def _file_mode() -> int:
    """What `open()` would give a new file: 0o666 less the umask (mkstemp makes files 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8) via a temporary file and `os.replace`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file and `os.replace`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
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
        os.chmod(tmp, FILE_MODE)
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
    except (ValueError, RecursionError) as error:  # bad JSON or UTF-8, 5,000-digit numbers, deep nesting
        raise ModelFileError(f"{path}: not valid JSON ({_first_line(str(error))})") from None
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


def load_keras_model(directory: Path) -> keras.Model:
    """Load `model.keras` with `safe_mode=True`; any failure becomes a one-line `ModelFileError`.

    The archive's `config.json` is checked before Keras reads it, so a file altered to carry code
    (a Lambda layer, a marshalled function) or classes from outside Keras and keras-seq2seq is
    refused in our words, whatever the Keras version would say; `safe_mode` stays on behind it.
    """
    import keras

    from keras_seq2seq import architectures  # noqa: F401  registers Seq2Seq, Transformer, the loss and metric

    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise ModelFileError(f"{path}: missing model file")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{path}: empty file (0 bytes); the save did not finish, retrain or restore it")
    _check_archive(path)
    with warnings.catch_warnings(record=True) as caught:  # keep Keras' multi-line warnings off stderr
        warnings.simplefilter("always")
        try:
            model = _read_model(path)
        except ModelFileError:
            raise
        except Exception as error:  # noqa: BLE001  corrupt archives raise many types (h5, json, keys)
            raise ModelFileError(_load_failure(path, error)) from None
    # A config Keras cannot build from (say "units": "many") only warns, and leaves a model that
    # is missing layers and weights; it would fail later, mid-translation.
    unbuilt = [w for w in caught if "cannot be built" in str(w.message)]
    if unbuilt or not model.built or not model.weights:
        why = _first_line(str(unbuilt[0].message), 120) if unbuilt else "no weights"
        raise ModelFileError(f"{path}: the model its config.json describes cannot be built ({why}); "
                             "altered or corrupted file?")
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def _read_model(path: Path) -> keras.Model:
    """`keras.saving.load_model`, minus the random initial weights the file then overwrites.

    Building a model draws every weight from its initialiser first. Under JAX each draw of a new
    shape is a new XLA program, compiled on the spot: 34 of them took 23 of the 29 s that loading
    a 2x256 attention model took. So under JAX the model is built and read inside a Keras
    `StatelessScope` that leaves the variables uninitialised and collects the file's values; the
    values are then assigned, and nothing is drawn. (Other backends draw eagerly and cheaply.)
    """
    import keras

    if keras.backend.backend() != "jax":
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    from keras.src.backend.common import global_state  # Keras keeps its pending initialisations here

    with keras.StatelessScope(initialize_variables=False) as scope:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    loaded = {id(v): scope.get_current_value(v) for v in model.variables}
    loaded = {key: value for key, value in loaded.items() if value is not None}
    pending = global_state.get_global_attribute("uninitialized_variables") or []
    global_state.set_global_attribute("uninitialized_variables", [v for v in pending if id(v) not in loaded])
    for variable in model.variables:
        if id(variable) in loaded:
            variable.assign(loaded[id(variable)])
    with keras.StatelessScope():  # leaving it draws what the file lacked (say, a newer dropout seed)
        pass
    return model


# Keras classes whose saved config is code: marshalled Python bytecode, or a pickled torch module.
_CODE_CLASSES = {"Lambda": "a Lambda layer", "__lambda__": "a Python lambda",
                 "TorchModuleWrapper": "a pickled torch module"}
_CODE_REFUSED = "refused: the file holds {what}, i.e. code that would run when loaded; " \
                "keras-seq2seq models never contain code, so this file was altered or made elsewhere"
_MISSING_CLASS = re.compile(r"Could not (?:locate (?:class|function)|deserialize) '([^']*)'")


def _check_archive(path: Path) -> None:
    """The archive is whole (every CRC checks) and its config names no code and no foreign class."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not {"config.json", "model.weights.h5"} <= names:
                raise ModelFileError(f"{path}: not a Keras model archive (no config.json and model.weights.h5 inside)")
            damaged = archive.testzip()
            if damaged is not None:
                raise ModelFileError(f"{path}: {damaged} inside the archive is corrupted (checksum mismatch)")
            text = archive.read("config.json")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as error:
        raise ModelFileError(f"{path}: not a .keras archive (truncated or corrupted?): {_first_line(str(error))}") from None
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as error:  # also bad UTF-8 (UnicodeDecodeError is a ValueError)
        raise ModelFileError(f"{path}: its config.json is not valid JSON ({_first_line(str(error))})") from None
    stack = [config]  # iterative: a deep config must not overflow the Python stack
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
            name, module = item.get("class_name"), item.get("module")
            if isinstance(name, str) and name in _CODE_CLASSES:
                raise ModelFileError(f"{path}: " + _CODE_REFUSED.format(what=_CODE_CLASSES[name]))
            if isinstance(module, str) and module.split(".")[0] not in ("keras", "keras_seq2seq"):
                raise ModelFileError(f"{path}: refused: it names {module}.{name}, which is neither part of "
                                     "Keras nor of keras-seq2seq; the file was altered or made elsewhere")


def _load_failure(path: Path, error: Exception) -> str:
    """A one-line message for an exception from `keras.saving.load_model`."""
    text = str(error)
    if "safe_mode" in text:  # Keras' own refusal of code (our check above should have come first)
        return f"{path}: " + _CODE_REFUSED.format(what="code (Keras safe_mode refused it)")
    missing = _MISSING_CLASS.findall(text)
    if missing:  # nested failures name the innermost class last
        return (f"{path}: refers to {missing[-1]!r}, which neither Keras nor keras-seq2seq provides; "
                "the file was altered, or made by another program or a newer keras-seq2seq")
    if "could not be loaded" in text or "variables" in text:
        return (f"{path}: its weights do not fit the model its config.json describes "
                f"({_first_line(text)}); altered or corrupted file?")
    return f"{path}: cannot be loaded ({type(error).__name__}: {_first_line(text)})"


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
