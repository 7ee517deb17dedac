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
