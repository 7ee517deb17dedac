"""keras-seq2seq: sequence-to-sequence learning (RNN encoder-decoder) with Keras 3.

The public face is small: `Translator` (train, translate, evaluate, save, load), the built-in
tasks (`task_splits`), the corpus readers (`read_corpus`), and the Keras layers in
`keras_seq2seq.layers` for those who compose their own models.
"""

import os

from keras_seq2seq.allocator import keep_freed_memory

# Before anything imports Keras: XLA's threads must find these malloc settings (see allocator.py).
keep_freed_memory()

# JAX is the default backend (whole loops compile with XLA); KERAS_BACKEND still wins when set.
os.environ.setdefault("KERAS_BACKEND", "jax")

__version__ = "0.1.0"

_LAZY = {
    "Translator": "keras_seq2seq.translator",
    "Settings": "keras_seq2seq.config",
    "task_splits": "keras_seq2seq.data.tasks",
    "read_corpus": "keras_seq2seq.data.corpus",
    "Pair": "keras_seq2seq.data.corpus",
}


def __getattr__(name):
    # Imported on first use, so that `seq2seq --help` does not wait for Keras and JAX to load.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'keras_seq2seq' has no attribute {name!r}")


__all__ = ["Translator", "Settings", "task_splits", "read_corpus", "Pair", "__version__"]
