"""The training loop: Keras `fit` with bucketed batches, dev scoring, best checkpoint, early stop,
training checkpoints, and resuming from one.

Kept apart from `Translator` because it is the one place that knows about optimisers, callbacks
and timing; the translator only asks it to make the model better on some pairs.

A resumed run restores everything the next step depends on (weights, optimizer, seed states,
dev selection, the epoch's batch order) and skips the batches of the epoch already done. Keras
`fit` always starts an epoch at its first batch, so the rest of a part-done epoch is one `fit`
over those batches alone, and the following epochs another.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np

from keras_seq2seq import checkpoint, shapes
from keras_seq2seq.callbacks import (DevSelection, EpochPlan, NanGuard, TensorBoardLog, Throughput,
                                     TimeBudget, TrainingDiverged, Warmup)
from keras_seq2seq.checkpoint import Checkpoint, Checkpointer, check_writable
from keras_seq2seq.data.batching import TrainingBatches
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.data.streaming import StreamedCorpus
from keras_seq2seq.errors import ConfigError
from keras_seq2seq.models import MaskedAccuracy, MaskedCrossEntropy
from keras_seq2seq.schedules import InverseSqrtSchedule
from keras_seq2seq.search.shortlist import Shortlist


def fit(translator, train: list[Pair] | StreamedCorpus, dev: list[Pair] | None, out_dir: Path | None,
        verbose: int = 1, log_dir: Path | None = None, resume_from: Checkpoint | None = None) -> dict:
    """Train `translator.model` in place; returns a JSON-able record of the run.

    With `dev`, the checkpoint is chosen on `select_on` (dev BLEU by default: the dev set is
    decoded greedily at every evaluation); without it, on the training loss. With `out_dir`,
    the training state is saved in `out_dir/checkpoint/` every `checkpoint_every` steps and at
    each epoch end; `resume_from` (found by `checkpoint.find`) continues such a run.
    """
    settings = translator.settings
    t = settings.train
    if out_dir is not None:
        check_writable(out_dir, checkpoint.space_needed(translator.model))
    keras.utils.set_random_seed(t.seed)
    batches, kept, dropped, longest_target = training_batches(translator, train)
    if not isinstance(train, StreamedCorpus):  # the generation shortlist, from the pairs kept
        translator.shortlist = Shortlist.build(batches.sources, batches.targets, len(translator.source_vocab),
                                               len(translator.target_vocab))
    if settings.max_output_len is None:
        # Room for somewhat longer outputs than seen in training, without unbounded loops.
        settings.max_output_len = int(math.ceil(longest_target * 1.5)) + 2
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
    model.forget_shapes()  # new step functions: count their traces from here
    prior = resume_from.trainer if resume_from else {}
    if resume_from:
        resume_from.restore_into(model)
        if "learning_rate" in resume_from.changed:  # asked for, e.g. after a divergence
            model.optimizer.learning_rate = t.learning_rate
    translator._generators.clear()  # dev decoding must compile against this run's length limit
    monitor = ("val_loss" if t.select_on == "loss" else t.select_on) if dev else "loss"
    selection = DevSelection(translator, dev, monitor, every_steps=t.eval_every,
                             patience=t.patience if dev else 0, plateau_patience=t.plateau_patience,
                             plateau_factor=t.plateau_factor, min_learning_rate=t.min_learning_rate,
                             out_dir=out_dir, verbose=verbose)
    meter, nan_guard = Throughput(batches), NanGuard()
    if resume_from:
        selection.restore(prior["selection"], resume_from.best_weights())
        meter.tokens, meter.seconds = prior["throughput"]["tokens"], prior["throughput"]["seconds"]
    started, spent = time.perf_counter(), float(prior.get("seconds", 0.0))
    epoch, skip = resume_from.position if resume_from else (0, 0)
    resumed_from = prior.get("resumed_from", []) + (
        [{"epoch": epoch, "batch": skip, "step": prior["step"]}] if resume_from else [])
    progress = Checkpointer(batches, nan_guard, t.checkpoint_every, history=prior.get("history"),
                            last_saved=dict(resumed_from[-1]) if resumed_from else None)
    if out_dir is not None:
        data = {"train": checkpoint.fingerprint(train), "dev": checkpoint.fingerprint(dev)}

        def write(position: dict) -> None:
            trainer = {**position, "epochs": t.epochs, "batches_per_epoch": batches.batches_per_epoch,
                       "stopped": bool(model.stop_training), "selection": selection.state(),
                       "history": progress.history, "seconds": spent + time.perf_counter() - started,
                       "throughput": {"tokens": meter.tokens, "seconds": meter.seconds},
                       "data": data, "resumed_from": resumed_from}
            checkpoint.save(out_dir, translator, trainer, checkpoint.state_arrays(model, selection.best_weights))

        progress.write = write
    callbacks: list[keras.callbacks.Callback] = [EpochPlan(batches), nan_guard, meter]
    if t.lr_schedule == "inverse-sqrt":
        callbacks.append(InverseSqrtSchedule(t.learning_rate, t.warmup_steps))
    elif t.warmup_steps:
        callbacks.append(Warmup(t.learning_rate, t.warmup_steps))
    if t.max_minutes:
        callbacks.append(TimeBudget(t.max_minutes, spent))
    callbacks.append(selection)
    if log_dir is not None:
        callbacks.append(TensorBoardLog(log_dir, selection))
    callbacks.append(progress)  # last: a checkpoint holds what the others did at that step

    def run(first: int, last: int, skip: int = 0) -> bool:
        """`fit` epochs `first`..`last - 1`, the first from its batch `skip`; False if stopped."""
        batches.start_epoch(first, skip)
        nan_guard.batch_offset = skip
        # shuffle=False: Keras would reorder the batches with Python's global `random`, which
        # a resumed run cannot replay (and callbacks could not tell which batch ran).
        model.fit(batches, validation_data=dev_batches, initial_epoch=first, epochs=last,
                  callbacks=callbacks, verbose=verbose, shuffle=False)
        nan_guard.batch_offset = 0
        return not model.stop_training

    going = not prior.get("stopped", False)
    if going and skip and epoch < t.epochs:
        progress.pending_metrics = resume_from.metric_values()
        going = run(epoch, epoch + 1, skip)
        epoch += 1
    if going and epoch < t.epochs:
        run(epoch, t.epochs)
    selection.restore_best()
    seconds = spent + time.perf_counter() - started
    if nan_guard.failed_at is not None:
        raise_diverged(nan_guard.failed_at, t.learning_rate, out_dir, selection.best_at, progress.last_saved)
    return {
        "train_pairs": kept,
        "dropped_by_length": dropped,
        "dev_pairs": len(dev or []),
        "epochs": len(progress.history.get("loss", [])),
        "selected_on": monitor,
        "best": selection.best_at,
        "best_epoch": selection.best_at.get("epoch", 0),
        "evaluations": selection.evaluations,
        "seconds": round(seconds, 1),
        "target_tokens_per_second": round(meter.steady_rate(), 1),
        "compiled_shapes": shapes.training_record(translator, batches, dev_batches),
        "devices": t.devices,
        "history": progress.history,
        "resumed_from": resumed_from,
    }


def raise_diverged(failed_at: dict, learning_rate: float, out_dir: Path | None, best_at: dict,
                   checkpoint_at: dict | None = None):
    kept = (f"the last good model in {out_dir} (epoch {best_at['epoch']}, step {best_at['step']}) is kept"
            if out_dir is not None and best_at else "nothing was saved")
    step = f" (step {failed_at['step']})" if "step" in failed_at else ""
    resume = ""
    if out_dir is not None and checkpoint_at:
        resume = (f", and so is the last good training checkpoint (step {checkpoint_at['step']}): run "
                  f"again with a lower --learning-rate to continue from there")
    raise TrainingDiverged(
        f"training diverged: the loss became {failed_at['loss']} at epoch {failed_at['epoch']}, "
        f"batch {failed_at['batch']}{step}; {kept}{resume}. Try a lower --learning-rate (it was "
        f"{learning_rate:g}), --warmup-steps, or a smaller --clipnorm."
    )


def training_batches(translator, train: list[Pair] | StreamedCorpus):
    """`(batches, pairs kept, pairs dropped by length, longest target in ids)` for `train`: held
    in memory for a list, read one bounded buffer at a time for a `StreamedCorpus`."""
    t = translator.settings.train
    if isinstance(train, StreamedCorpus):
        scan = train.scan(translator.settings)
        return train.batches(translator, t.seed), scan.kept, scan.dropped, scan.longest_target
    sources, targets, dropped = encode_pairs(translator, train, t.max_source_len, t.max_target_len)
    if not sources:
        raise ConfigError(
            f"all {len(train)} training pairs are longer than the length limits "
            f"(max_source_len={t.max_source_len}, max_target_len={t.max_target_len})"
        )
    batches = TrainingBatches(sources, targets, t.batch_size, t.length_step, seed=t.seed)
    return batches, len(sources), dropped, max(len(y) for y in targets)


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
