"""Training steered by dev scores: selection on BLEU, plateau, warm-up, NaN stop, TensorBoard."""

import math
import struct

import keras
import numpy as np
import pytest

from keras_seq2seq import Translator, task_splits
from keras_seq2seq.training.callbacks import DevSelection, NanGuard, TensorBoardLog, Warmup
from keras_seq2seq.training import TrainingDiverged
from keras_seq2seq.training.loop import raise_diverged


def _compiled_model(learning_rate=0.1):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


class _Holder:
    """Stands in for a model bundle where only `info` is touched (no out_dir, no decoding)."""

    def __init__(self):
        self.info = {}


def _lr(model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def test_loss_selection_lowers_the_rate_on_a_plateau_and_stops_after_patience():
    model = _compiled_model(0.1)
    selection = DevSelection(_Holder(), None, None, "loss", patience=3, plateau_patience=2,
                             plateau_factor=0.5, verbose=0)
    selection.set_model(model)
    selection.on_train_begin()
    for epoch, loss in enumerate([1.0, 0.8, 0.9, 0.95]):
        selection.on_epoch_end(epoch, {"loss": loss})
    assert selection.best_at == {"epoch": 2, "step": 0, "loss": 0.8}
    assert _lr(model) == pytest.approx(0.05)  # two evaluations without progress
    assert not model.stop_training
    selection.on_epoch_end(4, {"loss": 0.85})
    assert model.stop_training  # third in a row
    assert [e["loss"] for e in selection.evaluations] == [1.0, 0.8, 0.9, 0.95, 0.85]


def test_the_best_weights_are_put_back_at_the_end():
    model = _compiled_model()
    selection = DevSelection(_Holder(), None, None, "loss", verbose=0)
    selection.set_model(model)
    selection.on_train_begin()
    selection.on_epoch_end(0, {"loss": 0.5})
    best = [w.copy() for w in model.get_weights()]
    model.set_weights([w + 1 for w in best])
    selection.on_epoch_end(1, {"loss": 0.7})
    selection.restore_best()
    for kept, now in zip(best, model.get_weights()):
        np.testing.assert_array_equal(kept, now)


def test_warmup_raises_the_rate_linearly_then_holds_it():
    model = _compiled_model(0.4)
    warmup = Warmup(0.4, steps=4)
    warmup.set_model(model)
    warmup.on_train_begin()
    seen = []
    for batch in range(6):
        warmup.on_train_batch_begin(batch)
        seen.append(_lr(model))
    assert seen == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4, 0.4])


def test_nan_guard_stops_and_says_where():
    model = _compiled_model()
    guard = NanGuard()
    guard.set_model(model)
    guard.on_epoch_begin(2)
    guard.on_train_batch_end(6, {"loss": 1.5})
    assert guard.failed_at is None and not model.stop_training
    guard.on_train_batch_end(7, {"loss": math.nan})
    assert model.stop_training
    assert guard.failed_at["epoch"] == 3 and guard.failed_at["batch"] == 8
    with pytest.raises(TrainingDiverged, match=r"epoch 3, batch 8.*lower --learning-rate \(it was 0\.5\)"):
        raise_diverged(guard.failed_at, 0.5, None, {})


def _read_scalar_tags(directory) -> set[str]:
    """Tags in tensorboard event files (TFRecord framing: length, crc, payload, crc)."""
    from tensorboardX.proto import event_pb2

    tags = set()
    for path in directory.iterdir():
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            event = event_pb2.Event.FromString(data[offset + 12:offset + 12 + length])
            tags.update(value.tag for value in event.summary.value)
            offset += 12 + length + 4
    return tags


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny dates model trained with dev BLEU scored every 10 steps and TensorBoard logs."""
    splits = task_splits("dates", train=600, dev=100, test=10, seed=3)
    out = tmp_path_factory.mktemp("model")
    logs = tmp_path_factory.mktemp("tensorboard")
    translator = Translator.train(splits["train"], dev=splits["dev"], preset="dates", out_dir=out,
                                  log_dir=logs, verbose=0, epochs=3, units=32, embedding_dim=16,
                                  batch_size=32, eval_every=10, warmup_steps=5, patience=0)
    return translator, splits, out, logs


def test_the_checkpoint_is_the_best_dev_bleu_evaluation(trained):
    translator, splits, out, _ = trained
    record = translator.info["training"]
    evaluations = record["evaluations"]
    assert record["selected_on"] == "bleu"
    assert len(evaluations) >= 3  # every 10 of ~19 steps per epoch, plus epoch ends
    best = max(evaluations, key=lambda e: e["val_bleu"])
    assert record["best"]["val_bleu"] == pytest.approx(best["val_bleu"])
    # The model kept in memory, and the one saved, are that evaluation's.
    assert translator.evaluate(splits["dev"])["bleu"] == pytest.approx(best["val_bleu"])
    loaded = Translator.load(out)
    assert loaded.info["checkpoint"]["step"] == best["step"]
    assert loaded.evaluate(splits["dev"])["bleu"] == pytest.approx(best["val_bleu"])


def test_tensorboard_has_losses_dev_scores_and_the_rate(trained):
    *_, logs = trained
    tags = _read_scalar_tags(logs)
    assert {"train/loss", "dev/loss", "dev/bleu", "dev/chrf", "train/learning_rate",
            "dev_by_step/bleu"} <= tags


def test_tensorboard_log_without_selection_still_writes(tmp_path):
    model = _compiled_model()
    log = TensorBoardLog(tmp_path)
    log.set_model(model)
    log.on_train_begin()
    log.on_epoch_end(0, {"loss": 0.5})
    log.on_train_end()
    assert {"train/loss", "train/learning_rate"} <= _read_scalar_tags(tmp_path)
