import json
import os
import zipfile

import keras
import numpy as np
import pytest

from keras_seq2seq import artifacts
from keras_seq2seq.errors import ModelFileError
from keras_seq2seq.models import Seq2Seq


def _model(**options):
    model = Seq2Seq(10, 9, embedding_dim=4, units=8, **options)
    model.build()
    return model


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    artifacts.atomic_write_text(path, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        artifacts.atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temp file left


@pytest.mark.parametrize("options", [
    {},
    {"cell": "gru", "num_layers": 2, "bridge": True},
    {"attention": "bahdanau", "bidirectional": True},
    {"attention": "luong-dot"},
    {"attention": "luong-general", "bidirectional": True, "num_layers": 2, "cell": "gru"},
    {"attention": "luong-general", "scaled_attention": True, "param_init": 0.1},
], ids=["plain", "gru-2-bridge", "bahdanau-bi", "dot", "general-bi-gru-2", "general-scaled-init"])
def test_model_round_trip_with_safe_mode(tmp_path, options):
    model = _model(**options)
    artifacts.save_keras_model(model, tmp_path)
    loaded = artifacts.load_keras_model(tmp_path)
    x = (np.array([[4, 5, 0]], "int32"), np.array([[2, 6]], "int32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x)), rtol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_missing_truncated_and_garbage_model_files(tmp_path):
    with pytest.raises(ModelFileError, match="missing model file"):
        artifacts.load_keras_model(tmp_path)
    artifacts.save_keras_model(_model(), tmp_path)
    path = tmp_path / artifacts.MODEL_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        artifacts.load_keras_model(tmp_path)
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="model.keras"):
        artifacts.load_keras_model(tmp_path)


def test_a_model_carrying_a_lambda_is_refused(tmp_path):
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / artifacts.MODEL_FILE)
    with pytest.raises(ModelFileError, match="safe_mode|refused|cannot be loaded"):
        artifacts.load_keras_model(tmp_path)


def test_config_checks(tmp_path):
    with pytest.raises(ModelFileError, match="no such model directory"):
        artifacts.read_config(tmp_path / "nope")
    with pytest.raises(ModelFileError, match="not a finished"):
        artifacts.read_config(tmp_path)
    (tmp_path / artifacts.CONFIG_FILE).write_text("{broken")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        artifacts.read_config(tmp_path)
    (tmp_path / artifacts.CONFIG_FILE).write_text(json.dumps({"format": "other"}))
    with pytest.raises(ModelFileError, match="not a keras-seq2seq model config"):
        artifacts.read_config(tmp_path)
    artifacts.write_config(tmp_path, {"x": 1})
    assert artifacts.read_config(tmp_path)["x"] == 1
    data = json.loads((tmp_path / artifacts.CONFIG_FILE).read_text())
    data["format_version"] = 99
    (tmp_path / artifacts.CONFIG_FILE).write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="version 99"):
        artifacts.read_config(tmp_path)


def test_atomic_writes_make_files_readable_like_open_does(tmp_path):
    """mkstemp creates 0o600 files; a written model directory must be readable as usual."""
    import os

    from keras_seq2seq import artifacts

    target = tmp_path / "note.txt"
    artifacts.atomic_write_text(target, "hello")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
