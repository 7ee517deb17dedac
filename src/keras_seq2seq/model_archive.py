"""The `.keras` file of a model directory: saved atomically, loaded with every check we can make.

Keras' own loader is strict about code (`safe_mode`), but a damaged or altered archive reaches it
as a traceback of h5py, zip or JSON errors. Here every failure becomes one `ModelFileError` line
naming the file, and the archive is checked before Keras reads it: whole (every CRC), holding no
code (Lambda layers, marshalled functions, pickled torch modules) and no classes from outside
Keras and keras-seq2seq.
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
from keras_seq2seq.files import publish, remove_quietly

if TYPE_CHECKING:  # Keras loads on first use: `seq2seq --help` does not wait for it
    import keras

MODEL_FILE = "model.keras"


def save_keras_model(model: keras.Model, directory: Path) -> None:
    """Save `model` as `directory/model.keras`, atomically."""
    directory = Path(directory)
    # Keras insists on the .keras suffix, so the temporary name keeps it.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".model.", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        publish(tmp, directory / MODEL_FILE)
    except BaseException:
        remove_quietly(tmp)
        raise


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
        why = first_line(str(unbuilt[0].message), 120) if unbuilt else "no weights"
        raise ModelFileError(f"{path}: the model its config.json describes cannot be built ({why}); "
                             "altered or corrupted file?")
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def _read_model(path: Path) -> keras.Model:
    """`keras.saving.load_model`, minus the random initial weights the file then overwrites.

    Building a model draws every weight from its initialiser first. Under JAX each draw of a new
    shape is a new XLA program, compiled on the spot: most of the time loading an attention
    model took (docs/performance.md). So under JAX the model is built and read inside a Keras
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
        raise ModelFileError(f"{path}: not a .keras archive (truncated or corrupted?): {first_line(str(error))}") from None
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as error:  # also bad UTF-8 (UnicodeDecodeError is a ValueError)
        raise ModelFileError(f"{path}: its config.json is not valid JSON ({first_line(str(error))})") from None
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
                f"({first_line(text)}); altered or corrupted file?")
    return f"{path}: cannot be loaded ({type(error).__name__}: {first_line(text)})"


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
