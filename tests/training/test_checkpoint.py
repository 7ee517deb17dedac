"""The training checkpoint's parts, without training: when it is written, how a save survives a
kill, what a resumed run accepts, and the checks made before training starts.
(tests/test_resume.py kills real training runs.)"""

import json
import math
import re
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_seq2seq import Translator
from keras_seq2seq.training import checkpoint
from keras_seq2seq.training.callbacks import NanGuard
from keras_seq2seq.cli import main
from keras_seq2seq.config import preset
from keras_seq2seq.data.batching import TrainingBatches
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.errors import ConfigError, Seq2SeqError


def _tracker(batches: int, every: int):
    """A Checkpointer over `batches` batches per epoch that records what it would save."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    data = TrainingBatches([np.array([4, 5])] * batches * 2, [np.array([6, 3])] * batches * 2, batch_size=2)
    guard, saved = NanGuard(), []
    progress = checkpoint.Checkpointer(data, guard, every_steps=every, write=saved.append)
    for callback in (guard, progress):
        callback.set_model(model)
        callback.on_train_begin()
    return progress, guard, saved


def _epoch(callbacks, epoch: int, losses: list[float]) -> None:
    for callback in callbacks:
        callback.on_epoch_begin(epoch)
    for batch, loss in enumerate(losses):  # as Keras: every callback sees the batch, then a stop
        for callback in callbacks:
            callback.on_train_batch_end(batch, {"loss": loss})
        if callbacks[0].model.stop_training:
            break
    mean = sum(losses[: batch + 1]) / (batch + 1)
    for callback in callbacks:
        callback.on_epoch_end(epoch, {"loss": mean})


def test_checkpoints_every_n_steps_and_at_epoch_ends():
    progress, guard, saved = _tracker(batches=5, every=2)
    _epoch([guard, progress], 0, [1.0] * 5)
    _epoch([guard, progress], 1, [1.0] * 5)
    # Steps 2 and 4 mid-epoch; the epoch end (step 5, not its last batch) as the start of epoch 1.
    assert saved == [{"epoch": 0, "batch": 2, "step": 2}, {"epoch": 0, "batch": 4, "step": 4},
                     {"epoch": 1, "batch": 0, "step": 5}, {"epoch": 1, "batch": 1, "step": 6},
                     {"epoch": 1, "batch": 3, "step": 8}, {"epoch": 2, "batch": 0, "step": 10}]
    assert progress.history == {"loss": [1.0, 1.0]}


@pytest.mark.parametrize("bad_batch", [2, 4])  # mid-epoch, and the last batch (then no epoch-end save)
def test_no_checkpoint_after_a_nan_loss_the_last_good_one_is_named(bad_batch):
    progress, guard, saved = _tracker(batches=5, every=1)
    losses = [1.0] * 5
    losses[bad_batch] = math.nan
    _epoch([guard, progress], 0, losses)
    assert guard.failed_at["step"] == bad_batch + 1 and guard.failed_at["batch"] == bad_batch + 1
    assert [s["step"] for s in saved] == list(range(1, bad_batch + 1))
    assert progress.last_saved == saved[-1]  # the last good checkpoint, which the error names


def _fake_checkpoint(out: Path, step: int, where: str = checkpoint.CHECKPOINT_DIR) -> None:
    folder = out / where
    folder.mkdir(parents=True)
    (folder / checkpoint.TRAINER_FILE).write_text(json.dumps({"step": step}))


def test_a_kill_between_the_two_renames_is_recovered_and_scratch_is_swept(tmp_path):
    _fake_checkpoint(tmp_path, 10, ".checkpoint-old")  # `checkpoint` renamed aside, new one not in
    (tmp_path / ".checkpoint-new-abc").mkdir()          # a save killed before its rename
    found = checkpoint.recover(tmp_path)
    assert found == tmp_path / "checkpoint"
    assert json.loads((found / "trainer.json").read_text())["step"] == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]
    checkpoint.remove(tmp_path)
    assert list(tmp_path.iterdir()) == [] and checkpoint.recover(tmp_path) is None


def test_a_whole_checkpoint_wins_over_a_stale_old_one(tmp_path):
    _fake_checkpoint(tmp_path, 12)
    _fake_checkpoint(tmp_path, 10, ".checkpoint-old")  # killed while removing the old one
    found = checkpoint.recover(tmp_path)
    assert json.loads((found / "trainer.json").read_text())["step"] == 12
    assert not (tmp_path / ".checkpoint-old").exists()


def test_resume_true_needs_a_checkpoint_and_false_discards_it(tmp_path, capsys):
    settings = preset("dates")
    with pytest.raises(ConfigError, match="no unfinished training to resume"):
        checkpoint.find(tmp_path, True, settings, [], None)
    _fake_checkpoint(tmp_path, 7)
    assert checkpoint.find(tmp_path, False, settings, [], None) is None
    assert "starting over: removed" in capsys.readouterr().err
    assert not (tmp_path / "checkpoint").exists()


def test_only_some_training_settings_may_change_on_resume():
    saved = preset("dates").updated(source_tokenizer={"kind": "char", "lowercase": False})
    blocking, allowed = checkpoint.compare_settings(saved, preset("dates").updated(epochs=20, learning_rate=1e-4))
    assert blocking == [] and allowed == {"epochs": (10, 20), "learning_rate": (5e-3, 1e-4)}
    blocking, _ = checkpoint.compare_settings(saved, preset("dates").updated(units=64, batch_size=16, seed=1))
    assert [b.split()[0] for b in blocking] == ["units", "batch_size", "seed"]


def test_data_fingerprints_see_order_and_boundaries():
    pairs = [Pair("ab", "c"), Pair("d", "e")]
    assert checkpoint.fingerprint(pairs) == checkpoint.fingerprint(list(pairs))
    assert checkpoint.fingerprint(pairs) != checkpoint.fingerprint(pairs[::-1])
    assert checkpoint.fingerprint([Pair("a", "b\tc")]) != checkpoint.fingerprint([Pair("a\tb", "c")])
    assert checkpoint.fingerprint(None) is None


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{n}\t{n}{n}\n" for n in range(30)), encoding="utf-8")
    return path


def test_an_output_directory_that_cannot_exist_fails_before_training(tiny_corpus, tmp_path, capsys):
    # We run as root, so a read-only directory would still be writable: use a path whose
    # parent is a regular file instead.
    out = tiny_corpus / "model"
    assert main(["train", "--data", str(tiny_corpus), "--out", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert f"seq2seq: error: {out}: cannot write the model there (Not a directory)" in error
    assert "Epoch" not in error


def test_resume_without_a_checkpoint_is_an_error(tiny_corpus, tmp_path, capsys):
    assert main(["train", "--data", str(tiny_corpus), "--out", str(tmp_path / "new"), "--resume"]) == 2
    assert "no unfinished training to resume" in capsys.readouterr().err


def test_too_little_free_space_is_reported_before_training(tmp_path, monkeypatch):
    class Usage:
        free = 1_000_000  # 1 MB

    monkeypatch.setattr(checkpoint.shutil, "disk_usage", lambda path: Usage)
    pairs = [(str(n), str(n) * 2) for n in range(30)]
    translator = Translator.create(pairs, preset_name="dates", units=16, embedding_dim=8)
    with pytest.raises(Seq2SeqError, match=r"only 1 MB free; the model and its training checkpoint need about 1\d MB"):
        translator.fit(pairs, out_dir=tmp_path, verbose=0)
    assert "loss" not in translator.info.get("training", {})  # nothing trained


def test_a_checkpoint_path_taken_by_a_file_is_reported(tmp_path):
    (tmp_path / "checkpoint").write_text("not a directory")
    with pytest.raises(Seq2SeqError, match="checkpoint: exists and is not a directory"):
        checkpoint.check_writable(tmp_path)


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    from keras import ops

    from keras_seq2seq import models

    pairs = [(str(n), str(n) * 2) for n in range(64)] + [("poison", "Z")]
    translator = Translator.create(pairs, preset_name="dates", units=16, embedding_dim=8, batch_size=16,
                                   epochs=2, checkpoint_every=1, patience=0)
    poison = translator.target_vocab.encode(["Z"])[0]
    loss = models.MaskedCrossEntropy.call

    def poisoned(self, y_true, y_pred):  # NaN for the one batch holding the "Z" target
        hit = ops.any(ops.equal(ops.cast(y_true, "int32"), poison))
        return ops.where(hit, float("nan"), loss(self, y_true, y_pred))

    monkeypatch.setattr(models.MaskedCrossEntropy, "call", poisoned)
    with pytest.raises(Seq2SeqError, match=r"diverged: the loss became nan at epoch 1, batch \d+ \(step \d+\)") as caught:
        translator.fit(pairs, out_dir=tmp_path, verbose=0)
    message = str(caught.value)
    bad_step = int(re.search(r"\(step (\d+)\)", message).group(1))
    assert bad_step > 1  # the poisoned batch is not the first (fixed by the seed)
    assert json.loads((tmp_path / "checkpoint" / "trainer.json").read_text())["step"] == bad_step - 1
    assert f"last good training checkpoint (step {bad_step - 1})" in message
    assert "lower --learning-rate" in message
