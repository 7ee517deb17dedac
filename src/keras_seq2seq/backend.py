"""Which Keras backend runs the models, and who chooses it.

Keras reads its backend once, when it is first imported: `KERAS_BACKEND`, else the `"backend"`
of `~/.keras/keras.json` (`$KERAS_HOME/keras.json`), else TensorFlow. keras-seq2seq installs JAX
(and torch with the `torch` extra), not TensorFlow, so a program that chose nothing would fail
inside Keras with TensorFlow's `ModuleNotFoundError`.

- The `seq2seq` command chooses for its own process: JAX, unless `KERAS_BACKEND` is set
  (`use_default`, called by `cli.main` before anything imports Keras). JAX compiles whole
  decoding loops and training steps with XLA, which is why it is the default.
- Importing the package chooses nothing: a program that uses the library picks the backend as
  any Keras program does, e.g. `os.environ["KERAS_BACKEND"] = "jax"` before the first import.
  When it has chosen nothing usable, `check_chosen` (run when `keras_seq2seq.Translator` is
  first used) says so and what to set, instead of Keras' error from deep inside its import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

from keras_seq2seq.errors import Seq2SeqError

DEFAULT = "jax"
# Each backend's module, and the extra that installs it when the base install does not.
MODULES = {"jax": ("jax", None), "torch": ("torch", "torch"), "tensorflow": ("tensorflow", None),
           "numpy": ("numpy", None)}


class BackendUnavailable(Seq2SeqError, ImportError):
    """Keras would start on a backend that is not installed; the message says what to set."""


def use_default() -> str:
    """For the `seq2seq` command: JAX unless `KERAS_BACKEND` says otherwise; the backend chosen."""
    return os.environ.setdefault("KERAS_BACKEND", DEFAULT)


def configured() -> tuple[str, str]:
    """`(backend, where the choice comes from)` as Keras will see it on its first import."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    path = home / "keras.json"
    try:
        backend = json.loads(path.read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    if backend:
        return str(backend), str(path)
    return "tensorflow", "Keras' own default"


def check_chosen() -> None:
    """Raise `BackendUnavailable` (an `ImportError`) naming what to set when Keras would start on a backend that is not
    installed; nothing when Keras is loaded already or the backend can be imported."""
    if "keras" in sys.modules:
        return
    backend, source = configured()
    module, extra = MODULES.get(backend, (backend, None))
    if importlib.util.find_spec(module) is not None:
        return
    install = f" (pip install 'keras-seq2seq[{extra}]')" if extra else ""
    raise BackendUnavailable(
        f"Keras would start on its {backend!r} backend ({source}), and {module} is not installed{install}. "
        f"keras-seq2seq runs on JAX (installed with it) or torch (pip install 'keras-seq2seq[torch]'): "
        f"set KERAS_BACKEND=jax in the environment, or os.environ['KERAS_BACKEND'] = 'jax' before "
        f"importing keras_seq2seq.Translator")
