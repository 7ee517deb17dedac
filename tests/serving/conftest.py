"""A tiny trained model directory shared by the serving tests (trained once per session)."""

import json
import shutil

import pytest

from keras_seq2seq.data.tasks import task_splits
from keras_seq2seq.translator import Translator

# One epoch of a 32-unit model: it will not translate dates well, but it decodes like any model.
# length_step=32 pads every dates sentence to one length: one compiled program per decode shape.
TINY_SETTINGS = dict(epochs=1, units=32, embedding_dim=16, batch_size=64, learning_rate=1e-2,
                     attention="luong-dot", length_step=32)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    splits = task_splits("dates", train=2000, dev=10, test=10, seed=0)
    out = tmp_path_factory.mktemp("served-model")
    Translator.train(splits["train"], dev=splits["dev"], preset="dates", out_dir=out, verbose=0,
                     info={"data": {"task": "dates", "train_pairs": 2000}}, **TINY_SETTINGS)
    return out


@pytest.fixture(scope="session")
def dialogue_dir(model_dir, tmp_path_factory):
    """The tiny model, recorded as a dialogue model of three context turns (what `train` writes
    for prepare-dialogue pairs): what it says does not matter to these tests, only what it is given."""
    out = tmp_path_factory.mktemp("dialogue-model") / "chat"
    shutil.copytree(model_dir, out)
    config = json.loads((out / "config.json").read_text())
    config["data"] = {**config.get("data", {}), "dialogue": {"context_turns": 3}}
    (out / "config.json").write_text(json.dumps(config))
    return out
