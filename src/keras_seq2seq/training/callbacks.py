"""Keras callbacks that steer training by what we report: dev BLEU, the learning rate, NaNs, logs.

`DevSelection` is the heart: it decodes the dev set (greedy, detokenised, scored by sacrebleu
exactly like `evaluate`) at the end of every epoch or every N steps, and from that one score it
keeps the best weights, saves the best model directory, lowers the learning rate on a plateau and
stops early. Choosing on dev BLEU rather than dev loss picks the checkpoint a user would pick.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import keras

from keras_seq2seq import metrics
from keras_seq2seq.artifacts import save_bundle
from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.data.batching import TrainingBatches
from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.generation import Generation
from keras_seq2seq.search.options import SearchOptions


class TrainingDiverged(Seq2SeqError):
    """The loss became NaN or infinite; the message names the step and what to try."""


class StepCounter(keras.callbacks.Callback):
    """Keeps `_step` (the optimizer's update count, so it carries on across a resume) and `_epoch`."""

    def on_train_begin(self, logs=None):
        self._step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


class DevSelection(StepCounter):
    """Scores the dev set and acts on it: best weights, best checkpoint, plateau LR, early stop.

    `monitor` is `"bleu"` or `"chrf"` (higher is better, computed here by decoding `dev`), or a
    Keras log key such as `"val_loss"`/`"loss"` (lower is better, read at epoch ends). Each
    evaluation adds `val_bleu`/`val_chrf` to the epoch logs, so they show in the progress bar,
    the history and TensorBoard. `patience` and `plateau_patience` count evaluations, not epochs.
    The caller puts the best weights back with `restore_best()` once training is over (a resumed
    run calls `fit` more than once); `state()`/`restore()` carry the rest over to a resumed run.
    """

    def __init__(self, bundle: ModelBundle, generation: Generation, dev, monitor: str, every_steps: int = 0,
                 patience: int = 0, plateau_patience: int = 0, plateau_factor: float = 0.5,
                 min_learning_rate: float = 1e-5, out_dir: Path | None = None, verbose: int = 1):
        super().__init__()
        self.bundle = bundle
        self.generation = generation
        self.dev = dev
        self.monitor = monitor
        self.decodes = monitor in ("bleu", "chrf")
        self.every_steps = every_steps if self.decodes else 0
        self.patience = patience
        self.plateau_patience = plateau_patience
        self.plateau_factor = plateau_factor
        self.min_learning_rate = min_learning_rate
        self.out_dir = out_dir
        self.verbose = verbose
        self.listeners: list = []  # callables given each message as one line (plain progress, logs)
        self.higher_is_better = self.decodes
        self.best = -math.inf if self.higher_is_better else math.inf
        self.best_weights = None
        self.best_at: dict = {}
        self.evaluations: list[dict] = []
        self._bad = self._plateau_bad = 0
        self._step = 0

    # ------------------------------------------------------------------ when to evaluate
    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self.every_steps and self._step % self.every_steps == 0:
            scores = self._decode_dev()
            self._judge(scores, epoch=self._epoch + 1, step=self._step)
            self._say(f"step {self._step}: dev BLEU {scores['val_bleu']:.2f} chrF {scores['val_chrf']:.2f}")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if self.decodes:
            last = self.evaluations[-1] if self.evaluations else {}
            if last.get("step") == self._step:  # just scored at this very step
                logs.update({k: v for k, v in last.items() if k.startswith("val_")})
                return
            logs.update(self._decode_dev())
        key = f"val_{self.monitor}" if self.decodes else self.monitor
        if logs.get(key) is not None:
            self._judge({key: float(logs[key]), **{k: float(v) for k, v in logs.items()
                                                   if k.startswith("val_")}},
                        epoch=epoch + 1, step=self._step)

    def restore_best(self) -> None:
        """Put the best evaluation's weights back on the model (if there was one)."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    # ------------------------------------------------------------------ resuming
    def state(self) -> dict:
        """What a checkpoint needs to continue judging exactly as before (JSON-able; the best
        weights are saved apart)."""
        return {"best": self.best if self.best_at else None, "best_at": self.best_at,
                "evaluations": self.evaluations, "bad": self._bad, "plateau_bad": self._plateau_bad}

    def restore(self, state: dict, best_weights: list | None) -> None:
        if state.get("best") is not None:
            self.best = float(state["best"])
        self.best_at = dict(state.get("best_at") or {})
        self.evaluations = list(state.get("evaluations") or [])
        self._bad, self._plateau_bad = int(state.get("bad", 0)), int(state.get("plateau_bad", 0))
        self.best_weights = best_weights

    # ------------------------------------------------------------------ what to do
    def _decode_dev(self) -> dict:
        self.model  # noqa: B018 -- under JAX this puts the weights being trained back on the layers
        # Greedy, detokenised and scored exactly as `Translator.evaluate` scores a test set.
        best = self.generation.n_best([pair.source for pair in self.dev], SearchOptions())
        scores = metrics.score([outputs[0][0] for outputs in best], [pair.target for pair in self.dev],
                               self.bundle.target_tokenizer.tokenize)
        return {"val_bleu": scores["bleu"], "val_chrf": scores["chrf"]}

    def _judge(self, scores: dict, epoch: int, step: int) -> None:
        key = f"val_{self.monitor}" if self.decodes else self.monitor
        value = scores[key]
        self.evaluations.append({"epoch": epoch, "step": step, **scores})
        improved = value > self.best if self.higher_is_better else value < self.best
        if improved:
            self.best, self._bad, self._plateau_bad = value, 0, 0
            self.best_at = {"epoch": epoch, "step": step, **{k: float(v) for k, v in scores.items()}}
            self.best_weights = self.model.get_weights()
            self.bundle.info["checkpoint"] = dict(self.best_at)
            if self.out_dir is not None:
                save_bundle(self.bundle, self.out_dir)
            return
        self._bad += 1
        self._plateau_bad += 1
        if self.plateau_patience and self._plateau_bad >= self.plateau_patience:
            self._plateau_bad = 0
            self._lower_learning_rate(step)
        if self.patience and self._bad >= self.patience:
            self.model.stop_training = True

    def _lower_learning_rate(self, step: int) -> None:
        optimizer = self.model.optimizer
        old = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        new = max(old * self.plateau_factor, self.min_learning_rate)
        if new < old:
            optimizer.learning_rate = new
            self._say(f"step {step}: no dev improvement; learning rate {old:.2e} → {new:.2e}")

    def _say(self, message: str) -> None:
        if self.verbose:
            print("\n" + message)  # below Keras' progress bar
        for listener in self.listeners:
            listener(message)


class Warmup(StepCounter):
    """Raises the learning rate linearly from near 0 to its set value over the first `steps`.

    Recurrent models trained with Adam at a high rate can blow up in their first updates; a short
    warm-up lets the larger rate be used afterwards. Only the warm-up steps pay for the update.
    """

    def __init__(self, learning_rate: float, steps: int):
        super().__init__()
        self.learning_rate = learning_rate
        self.steps = steps

    def on_train_batch_begin(self, batch, logs=None):
        if self._step < self.steps:
            self.model.optimizer.learning_rate = self.learning_rate * (self._step + 1) / self.steps
        elif self._step == self.steps:
            self.model.optimizer.learning_rate = self.learning_rate
        self._step += 1


class NanGuard(StepCounter):
    """Stops at the first NaN/Inf loss and remembers where, so `fit` can say so plainly.

    `batch_offset` is the number of batches of the epoch done before this `fit` (a resumed run),
    so the batch named is the batch of the whole epoch.
    """

    def __init__(self):
        super().__init__()
        self.failed_at: dict | None = None
        self.batch_offset = 0
        self._epoch = 0
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.failed_at = {"epoch": self._epoch + 1, "batch": self.batch_offset + batch + 1,
                              "step": self._step, "loss": float(loss)}
            self.model.stop_training = True


class EpochPlan(keras.callbacks.Callback):
    """Gives every epoch its own batch order, a pure function of (seed, epoch).

    Keras has no epoch number for a dataset, and calls `on_epoch_end` on it at other times too
    (when `fit` starts), so the epoch is set from here, where Keras names it.
    """

    def __init__(self, batches: TrainingBatches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        if epoch != self.batches.epoch:  # `fit` starts on an epoch set (and maybe part-done) already
            self.batches.start_epoch(epoch)


class TensorBoardLog(StepCounter):
    """Writes losses, dev scores and the learning rate as TensorBoard scalars (tensorboardX).

    Keras' own TensorBoard callback needs TensorFlow; tensorboardX writes the same event files
    from any backend. View with `tensorboard --logdir DIR`.
    """

    def __init__(self, log_dir: Path, selection: DevSelection | None = None, every_steps: int = 50):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.selection = selection  # its dev evaluations are written by step as they happen
        self.every_steps = every_steps
        self._step = 0
        self._written = 0

    def on_train_begin(self, logs=None):
        from keras_seq2seq.extras import require

        require("tensorboard", "TensorBoard logs")
        from tensorboardX import SummaryWriter

        self.writer = SummaryWriter(str(self.log_dir))
        super().on_train_begin(logs)
        # Evaluations from before a resume were written by the run that made them.
        self._written = len(self.selection.evaluations) if self.selection else 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every_steps == 0 and logs and "loss" in logs:
            self.writer.add_scalar("train/batch_loss", float(logs["loss"]), self._step)
        self._write_evaluations()

    def _write_evaluations(self):
        evaluations = self.selection.evaluations if self.selection else []
        for evaluation in evaluations[self._written:]:
            for key, value in evaluation.items():
                if key.startswith("val_"):
                    self.writer.add_scalar(f"dev_by_step/{key[4:]}", value, evaluation["step"])
        self._written = len(evaluations)

    def on_epoch_end(self, epoch, logs=None):
        self._write_evaluations()
        for key, value in (logs or {}).items():
            name = f"dev/{key[4:]}" if key.startswith("val_") else f"train/{key}"
            self.writer.add_scalar(name, float(value), epoch + 1)
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.writer.add_scalar("train/learning_rate", lr, epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.close()


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `minutes` of wall time have passed (checked after every batch).

    The epoch in progress ends early; Keras then runs its dev pass and the usual callbacks,
    so the best checkpoint and early stopping still see it. `spent_seconds` were used before a
    resume: the budget is for the whole run, not for each process.
    """

    def __init__(self, minutes: float, spent_seconds: float = 0.0):
        super().__init__()
        self.seconds = minutes * 60
        self.spent_seconds = spent_seconds
        self._start: float | None = None

    def on_train_begin(self, logs=None):
        if self._start is None:  # once per run, though a resumed run calls `fit` twice
            self._start = time.perf_counter() - self.spent_seconds

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self._start > self.seconds:
            self.model.stop_training = True


class StepLimit(StepCounter):
    """Stops training after `steps` optimizer steps in all (a resumed run counts its earlier
    steps too): a run of fixed length, e.g. for a benchmark."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step >= self.steps:
            self.model.stop_training = True


class Throughput(keras.callbacks.Callback):
    """Training speed in real (unpadded) target tokens per second, compilation excluded.

    A batch is timed from its start to its end; Keras hands batch-level callbacks the finished
    loss, so the end is after the computation, and dev decoding between batches does not count. A batch whose padded
    shape has not been seen before pays for compiling a new program, so it is left out: the
    figure is what a long run settles to, and it is right for a run cut short by a time budget.
    """

    def __init__(self, batches: TrainingBatches):
        super().__init__()
        self.batches = batches
        self.shapes_seen: set[tuple[int, int]] = set()
        self.tokens = 0
        self.seconds = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        shape = self.batches.padded_shape(batch)
        if shape in self.shapes_seen:
            self.tokens += self.batches.batch_target_tokens(batch)
            self.seconds += now - self._start
        self.shapes_seen.add(shape)

    def steady_rate(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0
