"""The fit loop takes extra Keras callbacks and a step limit (what benchmarks need instead of patches)."""

import keras
import pytest

from keras_seq2seq import training
from keras_seq2seq.config import resolve
from keras_seq2seq.data.tasks import task_splits
from keras_seq2seq.errors import ConfigError
from keras_seq2seq.shapes import training_bound


class StepRecorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def test_extra_callbacks_run_and_training_stops_at_the_step_limit(tmp_path):
    splits = task_splits("dates", train=640, dev=64, test=10, seed=0)
    settings = resolve("dates", epochs=5, units=16, embedding_dim=8, batch_size=32)
    recorder = StepRecorder()
    bundle = training.train(splits["train"], splits["dev"], settings, out_dir=tmp_path / "model", verbose=0,
                            callbacks=[recorder], max_steps=7)
    assert recorder.batches == 7  # 20 batches an epoch: stopped inside the first
    assert int(keras.ops.convert_to_numpy(bundle.model.optimizer.iterations)) == 7
    assert bundle.info["training"]["epochs"] == 1
    assert (tmp_path / "model" / "config.json").is_file() and not (tmp_path / "model" / "checkpoint").exists()


def test_the_dev_set_follows_the_training_length_rule(tmp_path, capsys):
    """One enormous dev line is left out (and counted), not padded into every dev batch."""
    splits = task_splits("dates", train=320, dev=16, test=10, seed=0)
    dev = list(splits["dev"]) + [("9" * 3000, "2001-01-01"), ("March 3, 2021", "2021-03-03 " * 400)]
    settings = resolve("dates", epochs=1, units=16, embedding_dim=8, batch_size=32)
    bundle = training.train(splits["train"], dev, settings, out_dir=tmp_path / "model", verbose=1, max_steps=2)
    record = bundle.info["training"]
    assert (record["dev_pairs"], record["dev_dropped_by_length"]) == (16, 2)
    assert "dev: 2 of 18 pairs left out" in capsys.readouterr().err
    longest_train = max(len(bundle.encode_source(p.source)) for p in splits["train"])
    longest_dev = max(len(bundle.encode_source(p.source)) for p in splits["dev"])
    assert record["compiled_shapes"]["bound"]["dev_loss"] <= training_bound(max(longest_dev, longest_train), 20, 8)


def test_a_dev_set_entirely_over_the_limits_is_an_error(tmp_path):
    splits = task_splits("dates", train=64, dev=4, test=1, seed=0)
    settings = resolve("dates", epochs=1, units=8, embedding_dim=8, batch_size=32, max_source_len=30)
    with pytest.raises(ConfigError, match="all 1 dev pairs are longer than the limits"):
        training.train(splits["train"], [("1" * 40, "2001-01-01")], settings, verbose=0, max_steps=1)


def test_token_batches_train_and_the_record_reports_their_shapes_and_padding(tmp_path):
    import io

    from keras_seq2seq.training.progress import ProgressLines

    splits = task_splits("dates", train=640, dev=64, test=10, seed=0)
    settings = resolve("dates", epochs=2, units=16, embedding_dim=8, batch_tokens=300)
    log = io.StringIO()
    bundle = training.train(splits["train"], splits["dev"], settings, verbose=0, callbacks=[ProgressLines([log])])
    record = bundle.info["training"]
    assert record["batches"]["batch_tokens"] == 300 and len(record["batches"]["rows"]) >= 1
    assert all(rows * 2 <= 300 for rows in record["batches"]["rows"])  # targets are 2+ positions long
    assert 0 <= record["batches"]["padding_share"] < 0.5
    shapes = record["compiled_shapes"]
    assert 1 <= shapes["train"] <= shapes["bound"]["train"]
    assert "epoch 2/2 done in" in log.getvalue() and record["hardware"]["cores"] >= 1
    assert set(record["signatures"]) == {"bleu", "chrf"}
