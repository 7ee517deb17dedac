"""The training loop: Keras `fit` with bucketed batches, dev scoring, best checkpoint, early stop.

Kept apart from `Translator` because it is the one place that knows about optimisers, callbacks
and timing; the translator only asks it to make the model better on some pairs.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np

from keras_seq2seq.data.batching import TrainingBatches
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.errors import ConfigError, Seq2SeqError
from keras_seq2seq.models import MaskedAccuracy, MaskedCrossEntropy


def fit(translator, train: list[Pair], dev: list[Pair] | None, out_dir: Path | None,
        verbose: int = 1) -> dict:
    """Train `translator.model` in place; returns a JSON-able record of the run."""
    settings = translator.settings
    t = settings.train
    if out_dir is not None:
        check_writable(out_dir)
    keras.utils.set_random_seed(t.seed)
    sources, targets, dropped = encode_pairs(translator, train, t.max_source_len, t.max_target_len)
    if not sources:
        raise ConfigError(
            f"all {len(train)} training pairs are longer than the length limits "
            f"(max_source_len={t.max_source_len}, max_target_len={t.max_target_len})"
        )
    if settings.max_output_len is None:
        # Room for somewhat longer outputs than seen in training, without unbounded loops.
        settings.max_output_len = int(math.ceil(max(len(y) for y in targets) * 1.5)) + 2
    batches = TrainingBatches(sources, targets, t.batch_size, t.length_step, seed=t.seed)
    dev_batches = None
    if dev:
        dev_sources, dev_targets, _ = encode_pairs(translator, dev, None, None)
        dev_batches = TrainingBatches(dev_sources, dev_targets, t.batch_size, t.length_step, shuffle=False)

    model = translator.model
    model.compile(
        optimizer=keras.optimizers.Adam(t.learning_rate, global_clipnorm=t.clipnorm or None),
        loss=MaskedCrossEntropy(label_smoothing=t.label_smoothing),
        metrics=[MaskedAccuracy()],
    )
    monitor = "val_loss" if dev_batches is not None else "loss"
    meter = Throughput(batches)
    callbacks: list[keras.callbacks.Callback] = [meter]
    if t.max_minutes:
        callbacks.append(TimeBudget(t.max_minutes))
    if out_dir is not None:
        callbacks.append(BestModelSaver(translator, out_dir, monitor))
    if t.patience and dev_batches is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=monitor, patience=t.patience, restore_best_weights=True))
    started = time.perf_counter()
    history = model.fit(batches, validation_data=dev_batches, epochs=t.epochs,
                        callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    losses = history.history.get(monitor, [])
    return {
        "train_pairs": len(sources),
        "dropped_by_length": dropped,
        "dev_pairs": len(dev or []),
        "epochs": len(losses),
        "best_epoch": int(np.argmin(losses)) + 1 if losses else 0,
        f"best_{monitor}": float(np.min(losses)) if losses else None,
        "seconds": round(seconds, 1),
        "target_tokens_per_second": round(meter.steady_rate(), 1),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
    }


def encode_pairs(translator, pairs: list[Pair], max_source_len: int | None,
                 max_target_len: int | None) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Ids for each pair, dropping those over the token limits; returns (sources, targets, dropped)."""
    sources, targets, dropped = [], [], 0
    for pair in pairs:
        source = translator.encode_source(pair.source)
        target = translator.encode_target(pair.target)
        if (max_source_len and len(source) > max_source_len) or (
                max_target_len and len(target) - 1 > max_target_len):
            dropped += 1
            continue
        sources.append(source)
        targets.append(target)
    return sources, targets, dropped


def check_writable(directory: Path) -> None:
    """Fail before training, not after an hour, when the output directory cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as error:
        raise Seq2SeqError(f"{directory}: cannot write the model there ({error.strerror})") from None


class BestModelSaver(keras.callbacks.Callback):
    """Saves the whole model directory whenever the monitored loss improves.

    It keeps the best weights too and puts them back when training ends, so the model in memory
    and the final save are the best epoch's even without early stopping.
    """

    def __init__(self, translator, directory: Path, monitor: str):
        super().__init__()
        self.translator = translator
        self.directory = directory
        self.monitor = monitor
        self.best = math.inf
        self.best_weights = None

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value < self.best:
            self.best = value
            self.translator.info["checkpoint"] = {"epoch": epoch + 1, self.monitor: float(value)}
            self.best_weights = self.model.get_weights()
            self.translator.save(self.directory)


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `minutes` of wall time have passed (checked after every batch).

    The epoch in progress ends early; Keras then runs its dev pass and the usual callbacks,
    so the best checkpoint and early stopping still see it.
    """

    def __init__(self, minutes: float):
        super().__init__()
        self.seconds = minutes * 60

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self._start > self.seconds:
            self.model.stop_training = True


class Throughput(keras.callbacks.Callback):
    """Training speed in real (unpadded) target tokens per second, compilation excluded.

    The time of a batch is the time since the previous batch ended. A batch whose padded shape
    has not been seen before pays for compiling a new program, so it is left out: the figure is
    what a long run settles to, and it is right for a run cut short by a time budget too.
    """

    def __init__(self, batches: TrainingBatches):
        super().__init__()
        self.batches = batches
        self.shapes_seen: set[tuple[int, int]] = set()
        self.tokens = 0
        self.seconds = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        shape = self.batches.padded_shape(batch)
        if shape in self.shapes_seen:
            self.tokens += self.batches.batch_target_tokens(batch)
            self.seconds += now - self._last
        self.shapes_seen.add(shape)
        self._last = now

    def steady_rate(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0
