"""`seq2seq export`, then `seq2seq translate` and `seq2seq serve` on the export directory."""

import io
import sys

from fastapi.testclient import TestClient

from keras_seq2seq.cli import main
from keras_seq2seq.runtime import ExportedTranslator
from keras_seq2seq.serving import create_app, load_models

SENTENCES = ["July 4, 1976", "3/14/2015", "Wednesday, May 19, 1915"]


def test_export_then_translate_on_the_command_line(model_and_export, tmp_path, monkeypatch, capsys):
    translator, model_dir, _ = model_and_export
    assert main(["export", "--model", str(model_dir), "--out", str(tmp_path / "cli-export")]) == 0
    assert "float32" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(SENTENCES) + "\n"))
    assert main(["translate", "--model", str(tmp_path / "cli-export"), "--beam-size", "3", "--verbose"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == translator.translate(SENTENCES, beam_size=3)
    assert "ONNX export, float32" in captured.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))
    assert main(["translate", "--model", str(tmp_path / "cli-export"), "--sample"]) == 2
    assert "greedy and beam search only" in capsys.readouterr().err


def test_export_errors_are_one_line(model_and_export, tmp_path, capsys):
    assert main(["export", "--model", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: ") and err.count("\n") == 1


def test_the_server_serves_an_export_without_sampling(model_and_export):
    translator, _, export = model_and_export
    models = load_models([f"onnx={export}"])
    assert isinstance(models["onnx"].translator, ExportedTranslator)
    with TestClient(create_app(models, max_batch=4, max_delay=0.01)) as client:
        answer = client.post("/v1/translate", json={"text": SENTENCES, "beam_size": 2}).json()
        assert answer["translations"] == translator.translate(SENTENCES, beam_size=2)
        mapped = client.post("/v1/translate", json={"text": SENTENCES[0], "attention": True}).json()
        assert mapped["translations"] == translator.translate(SENTENCES[:1])
        refused = client.post("/v1/translate", json={"text": SENTENCES[0], "sample": True})
        assert refused.status_code == 422 and "ONNX export" in refused.json()["error"]
        described = client.get("/v1/models").json()["models"][0]
        assert described["runtime"] == "onnx-float32" and described["has_attention"]


def test_an_export_replies_with_greedy_or_beam_search_only(model_and_export):
    translator, _, export = model_and_export
    models = load_models([f"onnx={export}"])
    with TestClient(create_app(models, max_batch=4, max_delay=0.01)) as client:
        answer = client.post("/v1/reply", json={"turns": SENTENCES[:2], "beam_size": 2})
        assert answer.status_code == 200, answer.text
        context = answer.json()["context"]
        assert answer.json()["reply"] == translator.translate([context], beam_size=2)[0]
        for refused in ({"sample": True}, {"no_repeat_ngram": 3}):
            response = client.post("/v1/reply", json={"turns": SENTENCES[:1], **refused})
            assert response.status_code == 422 and "ONNX export" in response.json()["error"], response.text
            assert response.json()["error"].startswith(next(iter(refused)))
