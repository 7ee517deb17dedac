"""Data-parallel training (`devices=N`) is the same training, spread over devices.

A child process gets two virtual CPU devices (`XLA_FLAGS=--xla_force_host_platform_device_count=2`,
which must be set before JAX starts, hence the child) and trains the same tiny model (an RNN;
again, a Transformer) twice from
the same seed on the same batches: on one device, then with `devices=2`. Each epoch is a single
batch of 32 rows, so the epoch losses in the training record are the per-step losses.

They agree to rtol 1e-5, not exactly: with two devices each one sums the loss and gradients over
its 16 rows and the two partial sums are then added, a different order of float32 additions than
one sum over 32 rows (observed differences are about 1e-7 relative). Dropout is on: JAX draws the
same random bits however the batch is sharded, so the masks are the same too.

The parent process, with one device, then loads the model the two-device run saved and translates.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_seq2seq import Translator
from keras_seq2seq.training import distribution
from keras_seq2seq.cli import main
from keras_seq2seq.errors import ConfigError

SENTENCES = ["March 3, 2021", "4 July 1976", "1999-05-04"]
TRAIN_FOR_BOTH = """
import json, sys
import keras
from keras_seq2seq import Translator, task_splits
data = task_splits("dates", train=32, dev=40, test=0, seed=1)  # dev: a full batch and a part one
options = json.loads(sys.argv[2])  # the model's size and kind
found = {"devices_seen": len(keras.distribution.list_devices())}
for devices in (1, 2):
    # Only the two-device run has a dev set (decoded and scored under the distribution at each
    # epoch end): it changes which weights are kept at the end, not the training steps.
    translator = Translator.train(
        data["train"], dev=data["dev"] if devices == 2 else None, preset="dates",
        out_dir=f"{sys.argv[1]}/devices-{devices}", verbose=0, devices=devices, dropout=0.1,
        batch_size=32, epochs=4, length_step=32, patience=0, seed=3, **options)
    first = translator.model.trainable_variables[0].value  # a JAX array: on which devices?
    found[devices] = {"losses": translator.info["training"]["history"]["loss"],
                      "record_devices": translator.info["training"]["devices"],
                      "weights_on": len(first.sharding.device_set)}
found["translations"] = translator.translate(%r)
print(json.dumps(found))
""" % (SENTENCES,)
LOSS_RTOL = 1e-5  # see the module docstring: float sums in another order
MODELS = {"rnn": {"units": 16, "embedding_dim": 8},
          "transformer": {"architecture": "transformer", "units": 16, "heads": 2, "num_layers": 1}}


def _two_device_runs(out: Path, options: dict) -> tuple[dict, Path]:
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", TRAIN_FOR_BOTH, str(out), json.dumps(options)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), out


@pytest.fixture(scope="session", params=list(MODELS))
def two_device_runs(request, tmp_path_factory) -> tuple[dict, Path]:
    return _two_device_runs(tmp_path_factory.mktemp(f"distribution-{request.param}"), MODELS[request.param])


def test_two_devices_give_the_one_device_losses_step_by_step(two_device_runs):
    found, _ = two_device_runs
    assert found["devices_seen"] == 2
    one, two = found["1"], found["2"]
    assert len(one["losses"]) == len(two["losses"]) == 4
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=LOSS_RTOL)
    assert one["losses"][-1] < one["losses"][0]  # it trained: the comparison is not of constants
    # The two-device run really was spread out: its weights live on both devices.
    assert (one["weights_on"], two["weights_on"]) == (1, 2)
    assert (one["record_devices"], two["record_devices"]) == (1, 2)


def test_a_model_trained_on_two_devices_loads_and_translates_on_one(two_device_runs):
    found, out = two_device_runs
    translator = Translator.load(out / "devices-2")
    config = json.loads((out / "devices-2" / "config.json").read_text(encoding="utf-8"))
    assert config["training"]["devices"] == 2
    assert translator.translate(SENTENCES) == found["translations"]
    assert len(translator.model.trainable_variables[0].value.sharding.device_set) == 1
    # Fitting it further here (one device) needs no change of settings: devices were the run's.
    assert translator.settings.train.devices == 1
    translator.settings.train.epochs = 1
    translator.fit([(s, t) for s, t in zip(SENTENCES, found["translations"])] * 8, verbose=0)
    assert translator.info["training"]["devices"] == 1


def test_more_devices_than_present_says_how_many_and_how_to_get_virtual_ones():
    present = len(keras.distribution.list_devices())
    with pytest.raises(ConfigError) as error:
        distribution.choose_devices(present + 1, 64 * (present + 1))
    message = str(error.value)
    assert f"sees only {present} " in message
    assert f"XLA_FLAGS=--xla_force_host_platform_device_count={present + 1}" in message


def test_a_batch_size_that_does_not_split_evenly_is_refused():
    with pytest.raises(ConfigError, match="batch size must be a multiple of 3; got --batch-size 32"):
        distribution.choose_devices(3, 32)


def test_other_backends_are_refused(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(ConfigError, match="needs the JAX backend .* this run uses torch"):
        distribution.choose_devices(2, 32)


def test_the_cli_prints_the_error_and_exits_2(tmp_path, capsys):
    status = main(["train", "--task", "dates", "--task-size", "40", "--units", "8", "--embedding-dim", "4",
                   "--devices", "3", "--batch-size", "32", "--quiet", "--out", str(tmp_path / "m")])
    assert status == 2
    assert "seq2seq: error: --devices 3: each batch is split evenly" in capsys.readouterr().err
    assert not (tmp_path / "m" / "model.keras").exists()


def test_devices_must_be_a_positive_whole_number():
    with pytest.raises(ConfigError, match="devices must be a positive integer, got 0"):
        Translator.create([("a", "b")], preset_name="dates", devices=0)
