"""The training checkpoint: all a killed run needs to carry on exactly where it stopped.

    runs/my-model/
      model.keras, config.json, ...  the best model so far (artifacts.py), what `translate` loads
      checkpoint/                    the training state, only while training is unfinished
        model.keras, config.json, source_vocab.json, target_vocab.json (subword models)
                                     a whole model directory: the current weights, and in
                                     model.keras the optimizer state (Adam moments, step count,
                                     learning rate as changed by warm-up or a plateau)
        state.npz                    what Keras does not save: dropout seed states, the epoch's
                                     running loss/accuracy sums, the best weights so far
        trainer.json                 where training is (epoch, batch, step), the dev selection
                                     (best score, counters, evaluations), history, time spent,
                                     fingerprints of the training and dev data

A checkpoint is written whole into a new hidden directory, which is then renamed into place; the
one it replaces is renamed aside first and removed last. A kill at any moment leaves one whole
checkpoint: `checkpoint/`, or (killed between the two renames) `.checkpoint-old/`, which the next
run puts back. Arrays are saved as `.npz` and read with `allow_pickle=False`; nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import keras
import numpy as np

from keras_seq2seq.artifacts import CONFIG_FILE, load_bundle, save_bundle
from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.data.training_data import training_data
from keras_seq2seq.errors import ConfigError, ModelFileError, Seq2SeqError
from keras_seq2seq.files import fsync_dir, fsync_tree
from keras_seq2seq.model_archive import MODEL_FILE

if TYPE_CHECKING:
    from keras_seq2seq.config import Settings
    from keras_seq2seq.data.batching import TrainingBatches

CHECKPOINT_DIR = "checkpoint"
TRAINER_FILE = "trainer.json"
STATE_FILE = "state.npz"
FORMAT = "keras-seq2seq-checkpoint"
FORMAT_VERSION = 1
_OLD_DIR = ".checkpoint-old"         # the previous checkpoint, between the two renames
_SCRATCH_PREFIX = ".checkpoint-new-"  # being written, or being deleted: never read
# Training settings a resumed run may change; any other difference is a different run.
RESUMABLE_CHANGES = ("epochs", "max_minutes", "patience", "checkpoint_every", "learning_rate", "devices")
RESTART_HINT = "pass --restart (Python: resume=False) to discard it and start over"


@dataclass
class Checkpoint:
    """A checkpoint read back: the model bundle it holds, and the training state around it."""

    path: Path
    trainer: dict                  # trainer.json
    bundle: ModelBundle            # vocabularies, settings and the weights at the checkpoint
    arrays: dict[str, np.ndarray]  # state.npz
    changed: dict = field(default_factory=dict)  # setting -> (at the checkpoint, now)

    @property
    def position(self) -> tuple[int, int]:
        """`(epoch, batch)`: the 0-based epoch in progress and how many of its batches are done."""
        return int(self.trainer["epoch"]), int(self.trainer["batch"])

    def describe(self) -> str:
        epoch, batch = self.position
        epochs, per_epoch = self.trainer.get("epochs", "?"), self.trainer.get("batches_per_epoch", "?")
        where = (f"the start of epoch {epoch + 1} of {epochs}" if batch == 0
                 else f"epoch {epoch + 1} of {epochs}, batch {batch} of {per_epoch}")
        return f"{where} (step {self.trainer['step']})"

    def restore_into(self, model: keras.Model) -> None:
        """After `compile`: weights and optimizer state from model.keras, then the seed states."""
        model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(self.path / MODEL_FILE)
        except Exception as error:  # noqa: BLE001  h5/zip/shape errors come in many types
            raise ModelFileError(f"{self.path}: cannot restore the optimizer state ({error}); {RESTART_HINT}") from None
        _assign(model.non_trainable_variables, self._numbered("non_trainable"), f"{self.path}: its seed states")

    def best_weights(self) -> list[np.ndarray] | None:
        return self._numbered("best") or None

    def metric_values(self) -> list[np.ndarray] | None:
        """The running loss/accuracy sums of the epoch in progress (to finish its averages)."""
        return self._numbered("metric") if self.position[1] else None

    def _numbered(self, name: str) -> list[np.ndarray]:
        count = sum(1 for key in self.arrays if key.startswith(name + "_"))
        return [self.arrays[f"{name}_{i}"] for i in range(count)]


def state_arrays(model: keras.Model, best_weights: list | None) -> dict[str, np.ndarray]:
    """What `Checkpoint` reads back from state.npz, in variable order."""
    arrays = {}
    for name, values in (("non_trainable", model.non_trainable_variables),
                         ("metric", model.metrics_variables), ("best", best_weights or [])):
        for i, value in enumerate(values):
            arrays[f"{name}_{i}"] = np.asarray(keras.ops.convert_to_numpy(value))
    return arrays


def _assign(variables: list, values: list[np.ndarray], what: str) -> None:
    shapes = [tuple(v.shape) for v in variables]
    if shapes != [tuple(a.shape) for a in values]:
        raise ModelFileError(f"{what} do not fit this model; {RESTART_HINT}")
    for variable, value in zip(variables, values):
        variable.assign(value)


# ------------------------------------------------------------------------------ writing


def save(out_dir: Path, bundle: ModelBundle, trainer: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write a whole checkpoint next to the best model in `out_dir`, replacing the last one."""
    out_dir = Path(out_dir)
    recover(out_dir)
    try:
        scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=out_dir))
        try:
            save_bundle(bundle, scratch)
            np.savez(scratch / STATE_FILE, **arrays)
            trainer = {"format": FORMAT, "format_version": FORMAT_VERSION, **trainer}
            (scratch / TRAINER_FILE).write_text(json.dumps(trainer, indent=1) + "\n", encoding="utf-8")
            fsync_tree(scratch)
            _publish(scratch, out_dir)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    except OSError as error:
        kept = " (the previous checkpoint is kept)" if (out_dir / CHECKPOINT_DIR).is_dir() else ""
        raise Seq2SeqError(f"{out_dir}: cannot write the training checkpoint "
                           f"({error.strerror or error}){kept}") from None


def _publish(scratch: Path, out_dir: Path) -> None:
    """Swap `scratch` in as the checkpoint. Each rename is atomic; between them, only the old
    checkpoint is whole, and `recover` finds it under its aside name."""
    final, old = out_dir / CHECKPOINT_DIR, out_dir / _OLD_DIR
    if final.exists():
        os.replace(final, old)
    os.replace(scratch, final)
    fsync_dir(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def recover(out_dir: Path) -> Path | None:
    """The whole checkpoint in `out_dir`, if any, after tidying what a kill left behind."""
    out_dir = Path(out_dir)
    final, old = out_dir / CHECKPOINT_DIR, out_dir / _OLD_DIR
    if not (final / TRAINER_FILE).is_file() and (old / TRAINER_FILE).is_file():
        if final.exists():
            shutil.rmtree(final)
        os.replace(old, final)  # killed between the renames of `_publish`: the old one is whole
    for stale in [*out_dir.glob(_SCRATCH_PREFIX + "*"), old]:
        shutil.rmtree(stale, ignore_errors=True)
    return final if (final / TRAINER_FILE).is_file() else None


def remove(out_dir: Path) -> None:
    """Training finished: the checkpoint goes. Renamed first, so it is never half there."""
    final = Path(out_dir) / CHECKPOINT_DIR
    if final.exists():
        trash = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=out_dir))
        os.replace(final, trash / CHECKPOINT_DIR)
        shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(Path(out_dir) / _OLD_DIR, ignore_errors=True)


def finished_model(out_dir: str | Path) -> bool:
    """True when `out_dir` holds a finished model: a `config.json` (the last file a model
    directory gets) and no unfinished run to resume. Training into it would replace that model."""
    out_dir = Path(out_dir)
    unfinished = any((out_dir / name / TRAINER_FILE).is_file() for name in (CHECKPOINT_DIR, _OLD_DIR))
    return (out_dir / CONFIG_FILE).is_file() and not unfinished


def check_writable(directory: Path, needed_bytes: int = 0) -> None:
    """Fail before training, not after an hour, when `directory` cannot take the model and its
    checkpoints: not a writable directory, a `checkpoint` in it that is not a directory, or less
    free space than `needed_bytes`."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=directory))
        try:
            (probe / "probe").write_bytes(b"ok")
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    except OSError as error:
        raise Seq2SeqError(f"{directory}: cannot write the model there ({error.strerror or error})") from None
    final = directory / CHECKPOINT_DIR
    if final.exists() and not final.is_dir():
        raise Seq2SeqError(f"{final}: exists and is not a directory; the training checkpoint goes there")
    free = shutil.disk_usage(directory).free
    if free < needed_bytes:
        raise Seq2SeqError(f"{directory}: only {free / 1e6:,.0f} MB free; the model and its training "
                           f"checkpoint need about {needed_bytes / 1e6:,.0f} MB")


def space_needed(model: keras.Model) -> int:
    """Bytes the saved model and checkpoints take at most: 4-byte weights, Adam's two moments
    beside them in both model.keras files (best model, checkpoint), the best weights in the
    checkpoint, and a new checkpoint written before the old one goes; plus 10 MB of slack."""
    weights = 4 * model.count_params()
    return 3 * weights + 2 * (3 * weights + weights) + 10_000_000


# ------------------------------------------------------------------------------ reading


def find(out_dir: Path, resume: bool | None, requested: "Settings", train: list, dev: list | None) -> Checkpoint | None:
    """The checkpoint to continue from, or None to start a new run; says which on stderr.

    `resume=None` continues an unfinished run found in `out_dir`; `True` insists on one;
    `False` removes it and starts over. A checkpoint made with other data, or with settings that
    change the model or how it trains, is refused rather than silently mixed or discarded.
    """
    out_dir = Path(out_dir)
    check_writable(out_dir)
    path = recover(out_dir)
    if path is None:
        if resume:
            raise ConfigError(f"{out_dir}: no unfinished training to resume (no {CHECKPOINT_DIR}/{TRAINER_FILE})")
        return None
    if resume is False:
        print(f"starting over: removed the unfinished run's checkpoint in {path}", file=sys.stderr)
        remove(out_dir)
        return None
    found = load(path)
    for side, pairs in (("training", train), ("dev", dev)):
        if found.trainer.get("data", {}).get("train" if side == "training" else "dev") != fingerprint(pairs):
            raise ConfigError(f"{path}: the unfinished run there was trained with different {side} data; "
                              f"give the same data to resume it, or {RESTART_HINT}")
    blocking, found.changed = compare_settings(found.bundle.settings, requested)
    if blocking:
        raise ConfigError(f"{path}: the unfinished run there has other settings ({'; '.join(blocking[:5])}); "
                          f"give the same options to resume it, or {RESTART_HINT}")
    for name, (_, now) in found.changed.items():
        setattr(found.bundle.settings.train, name, now)
    changes = "".join(f"; {name} {was!r} → {now!r}" for name, (was, now) in found.changed.items())
    print(f"resuming the unfinished run in {out_dir} from its checkpoint at {found.describe()}{changes}",
          file=sys.stderr)
    return found


def load(path: Path) -> Checkpoint:
    path = Path(path)
    try:
        trainer = json.loads((path / TRAINER_FILE).read_text(encoding="utf-8"))
        if not isinstance(trainer, dict) or trainer.get("format") != FORMAT:
            raise ValueError(f"{TRAINER_FILE} is not a {FORMAT} file")
        if trainer.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"checkpoint format version {trainer.get('format_version')!r}, "
                             f"this keras-seq2seq reads {FORMAT_VERSION}")
        with np.load(path / STATE_FILE, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        bundle = load_bundle(path)
    except (OSError, ValueError, RecursionError, ModelFileError) as error:
        raise ModelFileError(f"{path}: cannot resume from this checkpoint ({error}); {RESTART_HINT}") from None
    return Checkpoint(path, trainer, bundle, arrays)


def compare_settings(saved: "Settings", requested: "Settings") -> tuple[list[str], dict]:
    """`(differences that make it another run, allowed changes {name: (saved, requested)})`.

    Tokeniser settings are compared on the keys asked for: a trained subword tokeniser's saved
    settings also name its model file.
    """
    have, want = saved.to_dict(), requested.to_dict()
    blocking, allowed = [], {}
    for section in ("text", "model", "train"):
        for name, value in want[section].items():
            old = have[section].get(name)
            if isinstance(value, dict) and isinstance(old, dict):
                same = all(old.get(k) == v for k, v in value.items())
            else:
                same = old == value
            if same:
                continue
            if section == "train" and name in RESUMABLE_CHANGES:
                allowed[name] = (old, value)
            else:
                blocking.append(f"{name} was {old!r}, now {value!r}")
    if want["max_output_len"] is not None and want["max_output_len"] != have["max_output_len"]:
        blocking.append(f"max_output_len was {have['max_output_len']!r}, now {want['max_output_len']!r}")
    return blocking, allowed


def fingerprint(data) -> str | None:
    """A digest of the training or dev data in order (`TrainingData.fingerprint`); None for none."""
    return None if data is None else training_data(data).fingerprint


# ------------------------------------------------------------------------------ during training


class Checkpointer(keras.callbacks.Callback):
    """Knows where training is and saves checkpoints: every `every_steps` steps and at the end of
    every whole epoch, through `write(position)`, never after a NaN/Inf loss (the last good
    checkpoint stays). Also keeps the epoch history of the whole run, resumes included.

    Goes after every callback whose state a checkpoint holds (dev selection), so a checkpoint
    taken at a step includes that step's evaluation. `write=None` only tracks.
    """

    def __init__(self, batches: "TrainingBatches", nan_guard, every_steps: int = 0,
                 write: Callable[[dict], None] | None = None, history: dict | None = None,
                 last_saved: dict | None = None):
        super().__init__()
        self.batches = batches
        self.nan_guard = nan_guard
        self.every_steps = every_steps
        self.write = write
        self.history = {key: list(values) for key, values in (history or {}).items()}
        self.last_saved = last_saved  # position of the newest checkpoint on disk
        self.pending_metrics: list[np.ndarray] | None = None  # an epoch's sums, put back at its start
        self.epoch = self.batch = self.step = 0

    def on_train_begin(self, logs=None):
        self.step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.batch = epoch, self.batches.skip
        if self.pending_metrics is not None:  # Keras has just reset them; under JAX it reads them next
            _assign(self.model.metrics_variables, self.pending_metrics, "the checkpoint's epoch metrics")
            self.pending_metrics = None

    def on_train_batch_end(self, batch, logs=None):
        self.batch += 1
        self.step += 1
        # The last batch of an epoch is saved at the epoch end, after its dev evaluation.
        if self.every_steps and self.step % self.every_steps == 0 and self.batch < self.batches.batches_per_epoch:
            self._save({"epoch": self.epoch, "batch": self.batch, "step": self.step})

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        if self.batch == self.batches.batches_per_epoch:  # not an epoch cut short by a stop
            self._save({"epoch": epoch + 1, "batch": 0, "step": self.step})

    def _save(self, position: dict) -> None:
        if self.write is None or self.nan_guard.failed_at is not None:
            return
        loss = self.history.get("loss", [0.0])[-1] if position["batch"] == 0 else 0.0
        if not math.isfinite(loss):
            return
        self.model  # noqa: B018 -- under JAX this puts the weights being trained back on the layers
        self.write(position)
        self.last_saved = position
