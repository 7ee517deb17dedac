"""One training per output directory: a second run into the same --out is refused, clearly."""

import subprocess
import sys

import pytest

from keras_seq2seq import training
from keras_seq2seq.cli import main
from keras_seq2seq.data.tasks import task_splits
from keras_seq2seq.config import resolve
from keras_seq2seq.training.lock import LOCK_FILE, TrainingInProgress, training_lock

HOLD = ("import sys\n"
        "from keras_seq2seq.training.lock import training_lock\n"
        "with training_lock(sys.argv[1]):\n"
        "    print('locked', flush=True)\n"
        "    sys.stdin.read()\n")


@pytest.fixture
def other_run(tmp_path):
    """Another process training into tmp_path/out (it holds the lock until told to stop)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "out")], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_second_training_into_the_same_directory_is_refused(tmp_path, other_run):
    splits = task_splits("dates", train=64, dev=4, test=1, seed=0)
    with pytest.raises(TrainingInProgress, match=rf"another training \(process {other_run.pid}\) is writing there"):
        training.train(splits["train"], splits["dev"], resolve("dates", units=8, embedding_dim=8),
                       out_dir=tmp_path / "out", verbose=0)


def test_the_command_line_says_so_in_one_line(tmp_path, other_run, capsys):
    assert main(["train", "--task", "dates", "--out", str(tmp_path / "out"), "--epochs", "1"]) == 2
    (error,) = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert error.startswith("seq2seq: error: ") and "another --out" in error


def test_a_killed_run_leaves_nothing_that_blocks_the_next(tmp_path, other_run):
    other_run.kill()
    other_run.wait()
    with training_lock(tmp_path / "out"):
        with training_lock(tmp_path / "out"):  # train() holds it, then fit() within the same process
            assert (tmp_path / "out" / LOCK_FILE).exists()
    assert not (tmp_path / "out" / LOCK_FILE).exists()
