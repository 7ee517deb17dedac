"""Resuming training: kills at any moment lose nothing, and the resumed run is the same run.

`seq2seq train` runs in a child process and is killed with SIGKILL, then run again until it
finishes. The model it saves must equal, array for array (`assert_array_equal`: weights and the
Adam moments/step count saved beside them) with the same dev evaluations and history, the model
of a run that was never interrupted. On JAX/CPU that holds exactly: a resumed run restores every
variable the next step reads (weights, optimizer, learning rate, dropout seed states, the epoch's
running metrics), the epoch's batch order is a function of (seed, epoch), and XLA's CPU programs
are deterministic. Torch is held to the same exactness, with dropout, in one cheaper killed run:
our `Dropout` layers are seeded (layers/dropout.py), so Keras draws their torch masks from the
layer's seed state, which the checkpoint holds, not from torch's global generator, which it does
not.

To keep the children cheap, they share a JAX compilation cache (the first run fills it; the
others load the compiled programs instead of compiling), and the sentences are at most 15
characters, so every batch has one padded shape.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from keras_seq2seq import task_splits
from keras_seq2seq.training.checkpoint import CHECKPOINT_DIR, TRAINER_FILE
from keras_seq2seq.cli import main

KILL_SEED = 6           # chooses the kill points: the same ones in every CI run
STEPS = 3 * 10          # 3 epochs of 320 pairs in batches of 32
OPTIONS = ["--preset", "dates", "--units", "16", "--embedding-dim", "8", "--dropout", "0.1",
           "--batch-size", "32", "--epochs", "3", "--eval-every", "4", "--checkpoint-every", "2",
           "--warmup-steps", "3", "--plateau-patience", "2", "--patience", "0", "--quiet"]
CHILD_TIMEOUT = 300     # seconds; generous for a loaded CI machine
# The torch run: 2 epochs of 10 steps, dev evaluations at steps 4, 8, 10, 12, 16, 20. Torch is
# slower to start and to decode than JAX with its compilation cache, so it is killed once.
TORCH_OPTIONS = [*OPTIONS, "--epochs", "2"]  # the last --epochs wins

# Runs `seq2seq train` but pauses (until killed) inside the N-th checkpoint save: "before" the
# finished checkpoint is renamed into place, or "between" the old one being renamed aside and
# the new one taking its place, the most delicate moment of a save.
PAUSING_MAIN = """
import os, sys, time
from pathlib import Path
from keras_seq2seq.training import checkpoint
from keras_seq2seq.cli import main
pause_at, where, flag = int(os.environ["PAUSE_AT_SAVE"]), os.environ["PAUSE_WHERE"], os.environ["PAUSED_FLAG"]
publish, saves = checkpoint._publish, 0
def paused_publish(scratch, out_dir):
    global saves
    saves += 1
    if saves == pause_at:
        if where == "between":
            os.replace(out_dir / checkpoint.CHECKPOINT_DIR, out_dir / checkpoint._OLD_DIR)
        Path(flag).write_text(str(scratch))
        time.sleep(600)
    publish(scratch, out_dir)
checkpoint._publish = paused_publish
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """320 training and 40 dev date pairs as TSV (target first), and the children's environment."""
    folder = tmp_path_factory.mktemp("resume")
    splits = task_splits("dates", train=1000, dev=200, test=10, seed=5)
    files = {}
    for name, pairs, count in (("train", splits["train"], 320), ("dev", splits["dev"], 40)):
        short = [p for p in pairs if len(p.source) <= 15][:count]
        assert len(short) == count
        files[name] = folder / f"{name}.tsv"
        files[name].write_text("".join(f"{p.target}\t{p.source}\n" for p in short), encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_COMPILATION_CACHE_DIR": str(folder / "jax-cache"),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
    return {**files, "env": env, "folder": folder}


def _arguments(corpus: dict, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(corpus["train"]), "--dev", str(corpus["dev"]), "--out", str(out),
            *corpus.get("options", OPTIONS), *extra]


def _start(corpus: dict, out: Path, log: Path, script: str | None = None, env: dict | None = None):
    command = [sys.executable, *(["-c", script] if script else ["-m", "keras_seq2seq.cli"])]
    return subprocess.Popen([*command, *_arguments(corpus, out)], stdout=subprocess.DEVNULL,
                            stderr=log.open("w"), env={**corpus["env"], **(env or {})})


def _checkpoint_step(out: Path) -> int | None:
    try:
        return json.loads((out / CHECKPOINT_DIR / TRAINER_FILE).read_text())["step"]
    except (OSError, ValueError):  # none yet, or caught between the two renames of a save
        return None


def _wait(process, ready, what: str) -> None:
    deadline = time.monotonic() + CHILD_TIMEOUT
    while not ready():
        assert process.poll() is None, f"training ended (status {process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"no {what} within {CHILD_TIMEOUT} s"
        time.sleep(0.01)


def _kill(process) -> None:
    process.kill()
    process.wait()
    assert process.returncode == -signal.SIGKILL


def _finish(corpus: dict, out: Path, log: Path) -> str:
    process = _start(corpus, out, log)
    assert process.wait(CHILD_TIMEOUT) == 0, log.read_text()
    assert not (out / CHECKPOINT_DIR).exists()  # a finished run leaves no checkpoint
    return log.read_text()


def _arrays(model_dir: Path) -> dict[str, np.ndarray]:
    """Every array in model.keras: the layers' weights and the optimizer's variables."""
    with zipfile.ZipFile(model_dir / "model.keras") as archive:
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
            found = {}
            weights.visititems(lambda name, item: found.__setitem__(name, item[()])
                               if isinstance(item, h5py.Dataset) else None)
    return found


def _assert_same_run(expected_dir: Path, resumed_dir: Path, resumes: int, epochs: int = 3,
                     evaluations: int = 9) -> None:
    expected, resumed = _arrays(expected_dir), _arrays(resumed_dir)
    assert expected.keys() == resumed.keys() and any("optimizer" in k for k in expected)
    for name in expected:
        np.testing.assert_array_equal(resumed[name], expected[name], err_msg=name)
    a, b = (json.loads((d / "config.json").read_text())["training"] for d in (expected_dir, resumed_dir))
    for key in ("evaluations", "history", "best", "epochs"):
        assert b[key] == a[key], key
    assert a["epochs"] == epochs and len(a["evaluations"]) == evaluations  # steps 4, 8, 10 (epoch end), 12, ...
    assert a["resumed_from"] == [] and len(b["resumed_from"]) == resumes


@pytest.fixture(scope="module")
def reference(corpus) -> Path:
    """The run never interrupted (it also fills the compilation cache for the others)."""
    out = corpus["folder"] / "uninterrupted"
    _finish(corpus, out, corpus["folder"] / "uninterrupted.log")
    return out


def test_killed_at_random_points_and_resumed_it_ends_as_the_uninterrupted_run(corpus, reference, tmp_path):
    rng = random.Random(KILL_SEED)
    out = tmp_path / "killed"
    # One kill point in each third of the run: after the first checkpoint at or past a random
    # step, plus a random delay, so kills land mid-step, mid-evaluation or mid-save.
    thirds = [range(2 + i * STEPS // 3, (i + 1) * STEPS // 3 - 1) for i in range(3)]
    points = [(rng.choice(third), rng.uniform(0.0, 0.3)) for third in thirds]
    resumed_steps = []
    for number, (step, delay) in enumerate(points):
        log = tmp_path / f"run{number}.log"
        process = _start(corpus, out, log)
        # The killed run before may have saved past this point already: each run after the first
        # is killed only once it has said it resumes, and from where, and saved a checkpoint of its own.
        since = resumed_steps[-1] + 1 if number else 0
        _wait(process, lambda: (not number or f"(step {resumed_steps[-1]})" in log.read_text())
              and (_checkpoint_step(out) or 0) >= max(step, since), f"a checkpoint at step {max(step, since)}")
        time.sleep(delay)
        _kill(process)
        resumed_steps.append(_checkpoint_step(out))
        assert resumed_steps[-1] >= step  # the checkpoint on disk is whole and readable
    stderr = _finish(corpus, out, tmp_path / "final.log")
    assert f"resuming the unfinished run in {out} from its checkpoint" in stderr
    assert f"(step {resumed_steps[-1]})" in stderr
    _assert_same_run(reference, out, resumes=3)


def _run_until_paused(corpus: dict, out: Path, folder: Path, save: int, where: str) -> str:
    flag = folder / f"paused-{where}"
    log = folder / f"paused-{where}.log"
    process = _start(corpus, out, log, PAUSING_MAIN,
                     {"PAUSE_AT_SAVE": str(save), "PAUSE_WHERE": where, "PAUSED_FLAG": str(flag)})
    _wait(process, flag.exists, f"checkpoint save {save}")
    _kill(process)
    return log.read_text()


def test_a_kill_while_saving_keeps_the_last_good_checkpoint(corpus, reference, tmp_path, capsys):
    out = tmp_path / "run"
    # Killed while writing its 4th checkpoint (step 8), before renaming it into place: the 3rd
    # (step 6) is what is on disk, and the unpublished one is never read.
    _run_until_paused(corpus, out, tmp_path, save=4, where="before")
    assert _checkpoint_step(out) == 6
    assert list(out.glob(".checkpoint-new-*"))  # the interrupted save's scratch directory

    # Settings or data that would make it another run are refused, not mixed or discarded.
    assert main(_arguments(corpus, out, "--units", "32")) == 2
    assert "units was 16, now 32" in capsys.readouterr().err
    other_data = _arguments(corpus, out)
    other_data[2] = str(corpus["dev"])
    assert main(other_data) == 2
    assert "trained with different training data" in capsys.readouterr().err
    assert _checkpoint_step(out) == 6

    # Resumed from step 6, killed between the renames of its 3rd save (step 12): the step-10
    # checkpoint is aside as .checkpoint-old, and nothing is in place.
    stderr = _run_until_paused(corpus, out, tmp_path, save=3, where="between")
    assert "resuming the unfinished run" in stderr and "(step 6)" in stderr
    assert not (out / CHECKPOINT_DIR).exists() and (out / ".checkpoint-old" / TRAINER_FILE).is_file()

    stderr = _finish(corpus, out, tmp_path / "final.log")
    assert "start of epoch 2 of 3 (step 10)" in stderr
    assert not list(out.glob(".checkpoint-*"))  # no leftovers
    _assert_same_run(reference, out, resumes=2)


def test_torch_with_dropout_killed_and_resumed_ends_as_the_uninterrupted_run(corpus, tmp_path):
    # One thread each: two torch runs train side by side beside the other pytest worker.
    torch_run = {**corpus, "env": {**corpus["env"], "KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1"},
                 "options": TORCH_OPTIONS}
    # The uninterrupted run trains beside the one that is killed, to halve the wait.
    reference = _start(torch_run, tmp_path / "uninterrupted", tmp_path / "uninterrupted.log")
    out = tmp_path / "killed"
    step = random.Random(KILL_SEED).choice([4, 6])  # inside the first epoch of 10 steps
    process = _start(torch_run, out, tmp_path / "killed.log")
    _wait(process, lambda: (_checkpoint_step(out) or 0) >= step, f"a checkpoint at step {step}")
    _kill(process)
    resumed_step = _checkpoint_step(out)
    assert reference.wait(CHILD_TIMEOUT) == 0, (tmp_path / "uninterrupted.log").read_text()
    stderr = _finish(torch_run, out, tmp_path / "final.log")
    assert f"resuming the unfinished run in {out} from its checkpoint" in stderr
    assert f"(step {resumed_step})" in stderr
    _assert_same_run(tmp_path / "uninterrupted", out, resumes=1, epochs=2, evaluations=6)


# A Transformer with dropout on its attention weights too, under the inverse-sqrt schedule (the
# rate is set at every step from the optimizer's count): 2 epochs of 10 steps, evaluations at
# steps 4, 8, 10, 12, 16, 20.
TRANSFORMER_OPTIONS = ["--preset", "dates", "--architecture", "transformer", "--units", "16", "--heads", "2",
                       "--layers", "1", "--dropout", "0.1", "--attention-dropout", "0.1", "--batch-size", "32",
                       "--epochs", "2", "--eval-every", "4", "--checkpoint-every", "2", "--lr-schedule",
                       "inverse-sqrt", "--warmup-steps", "6", "--learning-rate", "3e-3", "--patience", "0",
                       "--quiet"]


def test_a_transformer_killed_twice_and_resumed_ends_as_the_uninterrupted_run(corpus, tmp_path):
    run = {**corpus, "options": TRANSFORMER_OPTIONS}
    _finish(run, tmp_path / "uninterrupted", tmp_path / "uninterrupted.log")
    out = tmp_path / "killed"
    rng = random.Random(KILL_SEED)
    resumed_step = None
    for number, step in enumerate((rng.choice([3, 4, 5, 6]), rng.choice([12, 13, 14, 15]))):
        log = tmp_path / f"run{number}.log"
        process = _start(run, out, log)
        _wait(process, lambda: (_checkpoint_step(out) or 0) >= step, f"a checkpoint at step {step}")
        time.sleep(rng.uniform(0.0, 0.3))
        _kill(process)
        if resumed_step is not None:
            assert f"(step {resumed_step})" in log.read_text(), log.read_text()
        resumed_step = _checkpoint_step(out)
    stderr = _finish(run, out, tmp_path / "final.log")
    assert f"(step {resumed_step})" in stderr
    _assert_same_run(tmp_path / "uninterrupted", out, resumes=2, epochs=2, evaluations=6)
