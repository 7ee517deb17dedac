"""The model directory: config checks, and models saved by earlier releases loading unchanged."""

import json
import shutil
from pathlib import Path

import pytest

from keras_seq2seq import Translator, artifacts
from keras_seq2seq.errors import ModelFileError

FIXTURES = Path(__file__).with_name("fixtures")


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


def test_a_model_saved_before_the_one_way_house_loads_and_decodes_as_it_did(tmp_path):
    """`old-model-dates` was saved by the code before training moved out of `Translator`
    (`fixtures/make_old_model.py`, commit 2440ea8), with the greedy and beam outputs that code
    gave; the model must load, and decode to the very same outputs and scores."""
    expected = json.loads((FIXTURES / "old-model-dates-outputs.json").read_text(encoding="utf-8"))
    directory = tmp_path / "model"
    shutil.copytree(FIXTURES / "old-model-dates", directory)  # loading must not need to write
    translator = Translator.load(directory)
    assert translator.translate(expected["inputs"]) == expected["greedy"]
    beams = translator.translate_n_best(expected["inputs"], n_best=2, beam_size=4, length_penalty=0.6)
    assert [[text for text, _ in outputs] for outputs in beams] == \
        [[text for text, _ in outputs] for outputs in expected["beam4"]]
    for outputs, wanted in zip(beams, expected["beam4"]):
        assert [score for _, score in outputs] == pytest.approx([score for _, score in wanted], abs=1e-4)
    saved = tmp_path / "saved-again"
    translator.save(saved)  # and what it writes loads back the same
    assert Translator.load(saved).translate(expected["inputs"]) == expected["greedy"]


def test_every_file_of_a_saved_model_is_on_disk_before_its_name(tmp_path, monkeypatch):
    """A power cut must not leave a zero-length model.keras or config.json: each file is fsynced
    before it is renamed into place, and the directory after the rename."""
    import os

    translator = Translator.create([("one two", "1 2"), ("three", "3")], units=8, embedding_dim=4)
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", os.path.realpath(f"/proc/self/fd/{fd}"))),
                                                 real_fsync(fd)))
    monkeypatch.setattr(os, "replace", lambda src, dst: (events.append(("replace", os.path.realpath(src),
                                                                        os.path.realpath(dst))),
                                                         real_replace(src, dst)))
    out = tmp_path / "model"
    translator.save(out)
    renames = [(i, e) for i, e in enumerate(events) if e[0] == "replace"]
    assert {Path(dst).name for _, (_, _, dst) in renames} >= {"model.keras", "config.json", "source_vocab.json",
                                                              "target_vocab.json"}
    for i, (_, src, dst) in renames:
        assert ("fsync", src) in events[:i], f"{dst} renamed before its bytes were flushed"
        assert ("fsync", str(out.resolve())) in events[i + 1:], f"the rename to {dst} was not flushed"
