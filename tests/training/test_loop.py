"""The fit loop takes extra Keras callbacks and a step limit (what benchmarks need instead of patches)."""

import keras

from keras_seq2seq import training
from keras_seq2seq.config import resolve
from keras_seq2seq.data.tasks import task_splits


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
