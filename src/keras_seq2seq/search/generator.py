"""A compiled generator around a trained `Seq2Seq`.

Keras compiles `predict_on_batch` (a jitted XLA program under JAX, a `tf.function` under
TensorFlow, eager under torch), passing the model's current weights in as arguments. Wrapping the
search in a tiny model that *holds* the trained one therefore gives us a compiled decode loop that
always sees the latest weights, with no backend code of our own. One program is traced per input
shape; callers pad batches to a few fixed shapes (see `batching.py`).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_seq2seq.search.greedy import greedy_search


class Generator(keras.Model):
    """Runs a search policy over a `Seq2Seq` model; not saved (rebuilt from the model on load)."""

    def __init__(self, model, max_length: int, method: str = "greedy", **kwargs):
        super().__init__(**kwargs)
        if method != "greedy":
            raise ValueError(f"unknown search method {method!r}; available: greedy")
        self.model = model
        self.max_length = max_length
        self.method = method
        self.traced_shapes: set[tuple[int, int]] = set()

    def call(self, source_ids):
        return greedy_search(self.model, source_ids, self.max_length)

    def generate(self, source_ids: np.ndarray) -> np.ndarray:
        """Token ids `batch x max_length` (0 after each sentence's `<eos>`)."""
        self.traced_shapes.add(tuple(source_ids.shape))
        return np.asarray(self.predict_on_batch(source_ids))
