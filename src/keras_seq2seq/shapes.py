"""Compiled shapes: how many programs a run traced, and how many it may trace at most.

Every new input shape makes Keras trace and compile its step function again (a new XLA program
under JAX). Batches are padded to a few lengths (`data/batching.py`) so that the count stays
small; this module checks that promise. `TracedShapes` is mixed into the models: their train,
test and predict steps note the shapes they are called with. Under a compiled backend the step
body only runs when it is traced, so the notes count real traces (a retrace of a shape seen
before counts again); run eagerly (torch by default) it runs every step, and the count is of
distinct shapes. The bounds follow from the settings alone: the padded lengths the longest
sentence allows, times the row counts a decode batch can have.
"""

from __future__ import annotations

import collections
import warnings

import keras

from keras_seq2seq.data.batching import padded_length


class TooManyShapesWarning(UserWarning):
    """A run compiled more shapes than its settings allow: padding has stopped working."""


class TracedShapes:
    """Mixin for a `keras.Model`: counts the input shapes its steps are traced for, per step.

    `traced_shapes()` returns e.g. `{"train": 9, "test": 2}`; `forget_shapes()` starts over
    (`Model.compile` makes new step functions, so `fit` calls it after compiling).
    """

    def _note_shapes(self, step: str, data) -> None:
        log = self.__dict__.setdefault("_shape_log", {})  # not a Keras-tracked attribute
        # `train_on_batch` passes `(x, y, None)`: an absent sample weight has no shape.
        shapes = tuple(tuple(x.shape) for x in keras.tree.flatten(data) if x is not None)
        log.setdefault(step, collections.Counter())[shapes] += 1

    def traced_shapes(self) -> dict[str, int]:
        compiled = not self.run_eagerly and (self.jit_compile or keras.backend.backend() == "tensorflow")
        return {step: sum(seen.values()) if compiled else len(seen)
                for step, seen in self.__dict__.get("_shape_log", {}).items()}

    def forget_shapes(self) -> None:
        self.__dict__["_shape_log"] = {}

    # JAX passes `(state, data)`, the other backends `(data)`: the data is the last argument.
    def train_step(self, *args):
        self._note_shapes("train", args[-1])
        return super().train_step(*args)

    def test_step(self, *args):
        self._note_shapes("test", args[-1])
        return super().test_step(*args)

    def predict_step(self, *args):
        self._note_shapes("predict", args[-1])
        return super().predict_step(*args)


def padded_lengths(longest: int, step: int) -> list[int]:
    """Every length `padded_length` can give a sequence of 0..`longest` tokens."""
    return sorted({padded_length(n, step) for n in range(longest + 1)})


def decode_rows(sentences: int, batch_size: int) -> int:
    """Rows a decode batch of `sentences` is padded to: a power of two, at most `batch_size`.

    A lone sentence then runs as one row, not `batch_size` (a beam of 5 over 64 rows is 320
    hypotheses), while the row counts stay few: log2(batch_size) + 2 of them at most. Under a
    data-parallel distribution (training on several devices) batches keep `batch_size` rows,
    the size checked to split evenly across the devices.
    """
    if keras.distribution.distribution() is not None:
        return batch_size
    rows = 1
    while rows < sentences:
        rows *= 2
    return min(rows, batch_size)


def row_counts(batch_size: int) -> int:
    """How many different values `decode_rows(n, batch_size)` takes over n = 1..batch_size."""
    return len({decode_rows(n, batch_size) for n in range(1, batch_size + 1)})


def training_bound(longest_source: int, longest_target: int, step: int) -> int:
    """Most (source, target) shapes a training or dev-loss batch can have (`TrainingBatches`)."""
    return len(padded_lengths(longest_source, step)) * len(padded_lengths(longest_target, max(1, step // 2)))


def generation_bound(longest_source: int, step: int, batch_size: int, searches: int = 1) -> int:
    """Most shapes decoding can compile: padded lengths x row counts, for each search setting."""
    return len(padded_lengths(longest_source, step)) * row_counts(batch_size) * searches


def check(counts: dict[str, int], bounds: dict[str, int], what: str) -> None:
    """Warn (`TooManyShapesWarning`) for every count over its bound."""
    for name, count in counts.items():
        if name in bounds and count > bounds[name]:
            warnings.warn(f"{what}: {count} {name} shapes were compiled, more than the {bounds[name]} the "
                          f"settings allow; padding is not bounding the shapes (please report this)",
                          TooManyShapesWarning, stacklevel=2)
