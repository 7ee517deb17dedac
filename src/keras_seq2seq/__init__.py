"""keras-seq2seq: sequence-to-sequence learning (RNN encoder-decoder) with Keras 3.

The public face is small: `Translator` (train, translate, evaluate, save, load), the built-in
tasks (`task_splits`), the corpus readers (`read_corpus`), and the Keras layers in
`keras_seq2seq.layers` for those who compose their own models.

Importing the package changes nothing in the process: no environment variable, no allocator
setting. The `seq2seq` command makes those choices for its own process (`cli.main`); a Python
program makes them itself (`backend.py` and `allocator.py` say how).
"""

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

        if name == "Translator":  # the one name here that loads Keras
            from keras_seq2seq.backend import check_chosen

            check_chosen()  # a clear message, not TensorFlow's ImportError from inside Keras
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'keras_seq2seq' has no attribute {name!r}")


__all__ = ["Translator", "Settings", "task_splits", "read_corpus", "Pair", "__version__"]
