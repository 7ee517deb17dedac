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

from keras_seq2seq.callbacks import (DevSelection, NanGuard, TensorBoardLog, Throughput, TimeBudget,
                                     TrainingDiverged, Warmup)
from keras_seq2seq.data.batching import TrainingBatches
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.errors import ConfigError, Seq2SeqError
from keras_seq2seq.models import MaskedAccuracy, MaskedCrossEntropy


def fit(translator, train: list[Pair], dev: list[Pair] | None, out_dir: Path | None,
        verbose: int = 1, log_dir: Path | None = None) -> dict:
    """Train `translator.model` in place; returns a JSON-able record of the run.

    With `dev`, the checkpoint is chosen on `select_on` (dev BLEU by default: the dev set is
    decoded greedily at every evaluation); without it, on the training loss.
    """
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
    translator._generators.clear()  # dev decoding must compile against this run's length limit
    monitor = ("val_loss" if t.select_on == "loss" else t.select_on) if dev else "loss"
    selection = DevSelection(translator, dev, monitor, every_steps=t.eval_every,
                             patience=t.patience if dev else 0, plateau_patience=t.plateau_patience,
                             plateau_factor=t.plateau_factor, min_learning_rate=t.min_learning_rate,
                             out_dir=out_dir, verbose=verbose)
    meter, nan_guard = Throughput(batches), NanGuard()
    callbacks: list[keras.callbacks.Callback] = [nan_guard, meter]
    if t.warmup_steps:
        callbacks.append(Warmup(t.learning_rate, t.warmup_steps))
    if t.max_minutes:
        callbacks.append(TimeBudget(t.max_minutes))
    callbacks.append(selection)
    if log_dir is not None:
        callbacks.append(TensorBoardLog(log_dir, selection))
    started = time.perf_counter()
    history = model.fit(batches, validation_data=dev_batches, epochs=t.epochs,
                        callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - started
    if nan_guard.failed_at is not None:
        raise_diverged(nan_guard.failed_at, t.learning_rate, out_dir, selection.best_at)
    return {
        "train_pairs": len(sources),
        "dropped_by_length": dropped,
        "dev_pairs": len(dev or []),
        "epochs": len(history.history.get("loss", [])),
        "selected_on": monitor,
        "best": selection.best_at,
        "best_epoch": selection.best_at.get("epoch", 0),
        "evaluations": selection.evaluations,
        "seconds": round(seconds, 1),
        "target_tokens_per_second": round(meter.steady_rate(), 1),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
    }


def raise_diverged(failed_at: dict, learning_rate: float, out_dir: Path | None, best_at: dict):
    kept = (f"the last good model in {out_dir} (epoch {best_at['epoch']}, step {best_at['step']}) is kept"
            if out_dir is not None and best_at else "nothing was saved")
    raise TrainingDiverged(
        f"training diverged: the loss became {failed_at['loss']} at epoch {failed_at['epoch']}, "
        f"batch {failed_at['batch']}; {kept}. Try a lower --learning-rate (it was {learning_rate:g}), "
        f"--warmup-steps, or a smaller --clipnorm."
    )


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
