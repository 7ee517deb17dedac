import json
import os
import zipfile

import keras
import numpy as np
import pytest

from keras_seq2seq import model_archive
from keras_seq2seq.errors import ModelFileError
from keras_seq2seq.models import Seq2Seq


def _model(**options):
    model = Seq2Seq(10, 9, embedding_dim=4, units=8, **options)
    model.build()
    return model


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
    model_archive.save_keras_model(model, tmp_path)
    loaded = model_archive.load_keras_model(tmp_path)
    x = (np.array([[4, 5, 0]], "int32"), np.array([[2, 6]], "int32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(loaded(x)), rtol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_missing_truncated_and_garbage_model_files(tmp_path):
    with pytest.raises(ModelFileError, match="missing model file"):
        model_archive.load_keras_model(tmp_path)
    model_archive.save_keras_model(_model(), tmp_path)
    path = tmp_path / model_archive.MODEL_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        model_archive.load_keras_model(tmp_path)
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="model.keras"):
        model_archive.load_keras_model(tmp_path)


def test_a_model_carrying_a_lambda_is_refused(tmp_path):
    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / model_archive.MODEL_FILE)
    with pytest.raises(ModelFileError, match="safe_mode|refused|cannot be loaded"):
        model_archive.load_keras_model(tmp_path)
