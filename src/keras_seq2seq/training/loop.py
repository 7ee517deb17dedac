"""The training loop: Keras `fit` with bucketed batches, dev scoring, best checkpoint, early stop,
training checkpoints, and resuming from one.

The one place that knows about optimisers, callbacks and timing (Joey NMT's `TrainManager`): the
model and the search know nothing of training, and the `Translator` only asks it to make a model
better on some pairs. `train` builds a bundle (or picks up an unfinished run) and fits it; `fit`
improves a bundle in place.

A resumed run restores everything the next step depends on (weights, optimizer, seed states,
dev selection, the epoch's batch order) and skips the batches of the epoch already done. Keras
`fit` always starts an epoch at its first batch, so the rest of a part-done epoch is one `fit`
over those batches alone, and the following epochs another.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Iterable, Sequence

import keras

from keras_seq2seq import metrics
from keras_seq2seq.artifacts import save_bundle
from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.config import Settings
from keras_seq2seq.data.batching import TrainingBatches
from keras_seq2seq.data.training_data import PairList, TrainingData, training_data
from keras_seq2seq.generation import Generation
from keras_seq2seq.models import MaskedAccuracy, MaskedCrossEntropy
from keras_seq2seq.search.shortlist import Shortlist
from keras_seq2seq.shapes import check, generation_bound, training_bound
from keras_seq2seq.training import checkpoint
from keras_seq2seq.training.builder import build_bundle
from keras_seq2seq.training.callbacks import (DevSelection, EpochPlan, NanGuard, StepLimit, TensorBoardLog,
                                              Throughput, TimeBudget, TrainingDiverged, Warmup)
from keras_seq2seq.training.checkpoint import Checkpoint, Checkpointer, check_writable
from keras_seq2seq.training.distribution import choose_devices, data_parallel
from keras_seq2seq.training.environment import hardware
from keras_seq2seq.training.progress import ProgressLines
from keras_seq2seq.training.schedules import InverseSqrtSchedule


def train(data, dev: Iterable | None, settings: Settings, out_dir: str | Path | None = None,
          verbose: int = 1, info: dict | None = None, log_dir: str | Path | None = None,
          resume: bool | None = None, callbacks: Sequence[keras.callbacks.Callback] = (),
          max_steps: int | None = None) -> ModelBundle:
    """A trained bundle: vocabularies from `data`, then `fit` (see there for the arguments).

    `data` is `TrainingData` (e.g. a `StreamedCorpus`) or pairs. When `out_dir` holds an
    unfinished run (a `checkpoint/` left by a killed or diverged run), training continues from it
    with the same data and settings (`resume=None`, or `True`, which fails when there is none);
    `resume=False` discards it and starts over.
    """
    if settings.train.devices > 1:  # an impossible device count fails before anything is built
        choose_devices(settings.train.devices, settings.train.batch_size)
    data = training_data(data)
    dev = None if dev is None else PairList(dev)
    resume_from = None
    if out_dir is not None:
        resume_from = checkpoint.find(Path(out_dir), resume, settings, data, dev)
    bundle = resume_from.bundle if resume_from else build_bundle(data, settings)
    bundle.info.update(info or {})
    fit(bundle, data, dev, out_dir=out_dir, verbose=verbose, log_dir=log_dir, resume_from=resume_from,
        callbacks=callbacks, max_steps=max_steps)
    return bundle


def fit(bundle: ModelBundle, data, dev: Iterable | None = None, out_dir: str | Path | None = None,
        verbose: int = 1, log_dir: str | Path | None = None, resume_from: Checkpoint | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (), max_steps: int | None = None) -> dict:
    """Train `bundle.model` in place with teacher forcing; returns the record (also `info["training"]`).

    With `dev`, the dev set is decoded and scored every epoch (or every `eval_every` steps); the
    best evaluation on `select_on` (dev BLEU by default) is kept, the learning rate is lowered
    on a plateau, and training stops after `patience` evaluations without progress; without
    `dev`, the training loss decides. With `out_dir`, the best model so far is saved there at
    every improvement, the training state goes to `out_dir/checkpoint/` every
    `checkpoint_every` steps and at each epoch end, and the finished model replaces both at the
    end. With `log_dir`, losses, dev scores and the learning rate go to TensorBoard. A NaN/Inf
    loss stops training with `TrainingDiverged`, naming where it happened.

    `callbacks` are extra Keras callbacks, run after ours (benchmarks time steps with them);
    `max_steps` stops training after that many optimizer steps in all.
    """
    data = training_data(data)
    dev = None if dev is None else PairList(dev)
    out_dir = None if out_dir is None else Path(out_dir)
    log_dir = None if log_dir is None else Path(log_dir)
    with data_parallel(bundle):  # settings.train.devices > 1: batches split across devices
        record = _fit(bundle, data, dev, out_dir, verbose, log_dir, resume_from, list(callbacks), max_steps)
        bundle.info["training"] = record
        if out_dir is not None:
            save_bundle(bundle, out_dir)
            checkpoint.remove(out_dir)  # finished: nothing to resume
    return record


def _fit(bundle: ModelBundle, data: TrainingData, dev: PairList | None, out_dir: Path | None, verbose: int,
         log_dir: Path | None, resume_from: Checkpoint | None, extra: list, max_steps: int | None) -> dict:
    settings = bundle.settings
    t = settings.train
    if out_dir is not None:
        check_writable(out_dir, checkpoint.space_needed(bundle.model))
    keras.utils.set_random_seed(t.seed)
    plan = data.plan(bundle.encode_pair, settings)
    batches = plan.batches
    if plan.encoded is not None:  # the generation shortlist, from the pairs kept
        bundle.shortlist = Shortlist.build(*plan.encoded, len(bundle.source_vocab), len(bundle.target_vocab))
    if settings.max_output_len is None:
        # Room for somewhat longer outputs than seen in training, without unbounded loops.
        settings.max_output_len = int(math.ceil(plan.longest_target * 1.5)) + 2
    dev_batches = None
    if dev:
        dev_sources, dev_targets, _ = dev.encoded(bundle.encode_pair)
        dev_batches = TrainingBatches(dev_sources, dev_targets, t.batch_size, t.length_step, shuffle=False)

    model = bundle.model
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
    generation = Generation(bundle)  # dev decoding compiles against this run's length limit
    monitor = ("val_loss" if t.select_on == "loss" else t.select_on) if dev else "loss"
    selection = DevSelection(bundle, generation, dev, monitor, every_steps=t.eval_every,
                             patience=t.patience if dev else 0, plateau_patience=t.plateau_patience,
                             plateau_factor=t.plateau_factor, min_learning_rate=t.min_learning_rate,
                             out_dir=out_dir, verbose=verbose)
    selection.listeners += [callback.note for callback in extra if isinstance(callback, ProgressLines)]
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
        fingerprints = {"train": data.fingerprint, "dev": checkpoint.fingerprint(dev)}

        def write(position: dict) -> None:
            trainer = {**position, "epochs": t.epochs, "batches_per_epoch": batches.batches_per_epoch,
                       "stopped": bool(model.stop_training), "selection": selection.state(),
                       "history": progress.history, "seconds": spent + time.perf_counter() - started,
                       "throughput": {"tokens": meter.tokens, "seconds": meter.seconds},
                       "data": fingerprints, "resumed_from": resumed_from}
            checkpoint.save(out_dir, bundle, trainer, checkpoint.state_arrays(model, selection.best_weights))

        progress.write = write
    callbacks: list[keras.callbacks.Callback] = [EpochPlan(batches), nan_guard, meter]
    if t.lr_schedule == "inverse-sqrt":
        callbacks.append(InverseSqrtSchedule(t.learning_rate, t.warmup_steps))
    elif t.warmup_steps:
        callbacks.append(Warmup(t.learning_rate, t.warmup_steps))
    if t.max_minutes:
        callbacks.append(TimeBudget(t.max_minutes, spent))
    if max_steps:
        callbacks.append(StepLimit(max_steps))
    callbacks.append(selection)
    if log_dir is not None:
        callbacks.append(TensorBoardLog(log_dir, selection))
    callbacks.append(progress)  # after what a checkpoint holds: it includes that step's work
    callbacks.extend(extra)

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
        "train_pairs": plan.kept,
        "dropped_by_length": plan.dropped,
        "dev_pairs": len(dev or []),
        "epochs": len(progress.history.get("loss", [])),
        "selected_on": monitor,
        "best": selection.best_at,
        "best_epoch": selection.best_at.get("epoch", 0),
        "evaluations": selection.evaluations,
        "seconds": round(seconds, 1),
        "target_tokens_per_second": round(meter.steady_rate(), 1),
        "compiled_shapes": compiled_shapes(bundle, generation, batches, dev_batches),
        "devices": t.devices,
        "hardware": hardware(),
        **({"signatures": metrics.signatures(metrics.detect_language([pair.target for pair in dev]))}
           if dev and selection.decodes else {}),
        "batches": batches.describe() if hasattr(batches, "describe") else {},
        "history": progress.history,
        "resumed_from": resumed_from,
    }


def compiled_shapes(bundle: ModelBundle, generation: Generation, batches, dev_batches) -> dict:
    """The `compiled_shapes` entry of a training record: traces per step, and their bounds.

    `train` counts the train step, `dev_loss` the dev-loss step, `generate` the dev decoding
    (greedy, for BLEU/chrF selection). Warns if any count is over its bound.
    """
    t = bundle.settings.train
    traced = bundle.model.traced_shapes()
    counts = {"train": traced.get("train", 0), "dev_loss": traced.get("test", 0),
              "generate": generation.traced_programs()}
    bounds = {}
    if isinstance(batches, TrainingBatches):
        bounds["train"] = training_bound(int(batches.source_lengths.max()), int(batches.target_lengths.max()),
                                         t.length_step)
    elif t.max_source_len and t.max_target_len:  # a streamed corpus is not held: its limits bound it
        bounds["train"] = training_bound(t.max_source_len, t.max_target_len + 1, t.length_step)  # + <eos>
    if dev_batches is not None:
        dev_source = int(dev_batches.source_lengths.max())
        bounds["dev_loss"] = training_bound(dev_source, int(dev_batches.target_lengths.max()), t.length_step)
        bounds["generate"] = generation_bound(dev_source, t.length_step, t.batch_size)
    check(counts, bounds, "training")
    return {**counts, "bound": bounds}


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
