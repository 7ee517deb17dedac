"""`seq2seq train --architecture transformer`: its options reach the model, options of the other
architecture are refused, and the trained model translates and evaluates from the command line."""

import json
import sys

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.translator import Translator

WORDS = ["uno", "dos", "tres", "cuatro", "cinco"]
ENGLISH = ["one", "two", "three", "four", "five"]
LINES = [f"{ENGLISH[i]} {ENGLISH[j]}.\t{WORDS[i]} {WORDS[j]}." for i in range(5) for j in range(5)] * 4
TINY = ["--architecture", "transformer", "--units", "16", "--layers", "2", "--decoder-layers", "1",
        "--heads", "2", "--ffn-dim", "32", "--attention-dropout", "0.0", "--no-pre-norm", "--positions", "learnt",
        "--epochs", "2", "--quiet", "--dev-size", "10", "--lr-schedule", "inverse-sqrt", "--warmup-steps", "4",
        "--learning-rate", "3e-3"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "pairs.tsv"
    path.write_text("".join(line + "\n" for line in LINES), encoding="utf-8")
    return path


def test_train_translate_evaluate_a_transformer(corpus, tmp_path, capsys, monkeypatch):
    out = tmp_path / "model"
    code = main(["train", "--data", str(corpus), "--source-lang", "spa", "--out", str(out), *TINY])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    model = json.loads((out / "config.json").read_text(encoding="utf-8"))["settings"]["model"]
    assert (model["architecture"], model["units"], model["num_layers"], model["decoder_layers"],
            model["heads"], model["ffn_dim"], model["pre_norm"], model["positions"]) == (
        "transformer", 16, 2, 1, 2, 32, False, "learnt")
    translator = Translator.load(out)
    assert type(translator.model).__name__ == "Transformer"
    assert len(translator.model.encoder.blocks) == 2 and len(translator.model.decoder.blocks) == 1

    inputs = tmp_path / "in.txt"
    inputs.write_text("uno dos.\ntres.\n\ncinco uno.\n", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", open(inputs, encoding="utf-8"))
    assert main(["translate", "--model", str(out), "--beam-size", "3", "--n-best", "2"]) == 0
    rows = [line.split(" ||| ") for line in capsys.readouterr().out.splitlines()]
    assert [int(r[0]) for r in rows] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert all(float(rows[i][2]) >= float(rows[i + 1][2]) for i in range(0, 8, 2))

    assert main(["evaluate", "--model", str(out), "--data", str(corpus), "--source-lang", "spa",
                 "--samples", "0", "--beam-size", "2", "--shortlist", "8"]) == 0
    report = capsys.readouterr().out
    assert "BLEU" in report and "chrF" in report


@pytest.mark.parametrize("options, message", [
    (["--architecture", "transformer", "--attention", "luong-dot", "--cell", "gru"],
     "--cell, --attention only apply to --architecture rnn"),
    (["--heads", "4"], "--heads only apply to --architecture transformer"),
    (["--preset", "tatoeba-transformer", "--embedding-dim", "64"], "--embedding-dim only apply"),
    (["--architecture", "transformer", "--share-embeddings"], "needs one joint vocabulary"),
    (["--architecture", "transformer", "--units", "30", "--heads", "4"], "multiple of heads"),
])
def test_options_of_the_other_architecture_are_refused(corpus, tmp_path, capsys, options, message):
    code = main(["train", "--data", str(corpus), "--source-lang", "spa", "--out", str(tmp_path / "m"), *options])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m" / "model.keras").exists()
