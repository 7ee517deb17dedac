"""A broken export directory is refused with one line naming what is wrong."""

import json
import shutil

import pytest

from keras_seq2seq.errors import ModelFileError
from keras_seq2seq.runtime import is_export, load
from keras_seq2seq.runtime.manifest import FORMAT_VERSION


@pytest.fixture
def copy(model_and_export, tmp_path):
    shutil.copytree(model_and_export[2], tmp_path / "export")
    return tmp_path / "export"


def _refused(directory, match: str) -> str:
    with pytest.raises(ModelFileError, match=match) as error:
        load(directory)
    assert "\n" not in str(error.value)
    return str(error.value)


def test_a_whole_export_loads_and_is_recognised(copy, model_and_export):
    assert is_export(copy) and not is_export(model_and_export[1])
    assert load(copy).translate(["July 4, 1976"])


def test_missing_graph(copy):
    (copy / "decoder.onnx").unlink()
    assert "decoder.onnx" in _refused(copy, "missing")


def test_altered_graph(copy):
    data = bytearray((copy / "encoder.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "encoder.onnx").write_bytes(bytes(data))
    assert "encoder.onnx" in _refused(copy, "SHA-256 does not match")


def test_altered_vocabulary(copy):
    (copy / "target_vocab.json").write_text((copy / "target_vocab.json").read_text() + " ")
    _refused(copy, "target_vocab.json: SHA-256 does not match")


def test_newer_format(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    _refused(copy, "newer than this runtime reads")


def test_not_an_export(copy, model_and_export):
    (copy / "manifest.json").write_text("{not json")
    _refused(copy, "not valid JSON")
    _refused(model_and_export[1], "not a keras-seq2seq ONNX export")


def test_a_file_outside_the_directory_is_refused(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["../escape.json"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    _refused(copy, "bad file entry")
