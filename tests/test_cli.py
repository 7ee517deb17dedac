import re
import subprocess
import sys

import pytest

from keras_seq2seq.cli import main


def test_help_lists_commands_and_defaults():
    done = subprocess.run([sys.executable, "-m", "keras_seq2seq.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("train", "translate", "evaluate", "demo", "tasks"):
        assert command in done.stdout
    done = subprocess.run([sys.executable, "-m", "keras_seq2seq.cli", "train", "--help"], capture_output=True, text=True)
    assert "--batch-size" in done.stdout and "--source-lang" in done.stdout and "default:" in done.stdout


def _tsv(tmp_path, lines):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_corpus_errors_name_file_and_line(tmp_path, capsys):
    path = _tsv(tmp_path, ["Hello.\tHola.", "no separator here", "Bye.\tAdiós."])
    code = main(["train", "--data", str(path), "--source-lang", "spa", "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:2:" in err and "seq2seq: error:" in err
    assert not (tmp_path / "m" / "model.keras").exists()


def test_missing_data_file(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path / "nope.tsv"), "--out", str(tmp_path / "m")])
    assert code == 2 and "nope.tsv" in capsys.readouterr().err


def test_train_translate_evaluate_on_a_user_corpus(tmp_path, capsys, monkeypatch):
    words = ["uno", "dos", "tres", "cuatro", "cinco"]
    english = ["one", "two", "three", "four", "five"]
    lines = [f"{english[i]} {english[j]}.\t{words[i]} {words[j]}." for i in range(5) for j in range(5)] * 4
    lines.append("bad line without tab")
    path = _tsv(tmp_path, lines)
    out = tmp_path / "model"
    code = main(["train", "--data", str(path), "--source-lang", "spa", "--out", str(out), "--skip-bad-lines",
                 "--epochs", "2", "--units", "16", "--embedding-dim", "8", "--quiet", "--dev-size", "10",
                 "--attention", "luong-general", "--bidirectional"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "1 bad line" in captured.err
    assert (out / "model.keras").exists()

    inputs = tmp_path / "in.txt"
    inputs.write_text("uno dos.\ntres.\n\ncinco uno.\n", encoding="utf-8")
    assert main(["translate", "--model", str(out), "--input", str(inputs), "--output", str(tmp_path / "o.txt")]) == 0
    assert len((tmp_path / "o.txt").read_text(encoding="utf-8").split("\n")) == 5  # 4 lines + final newline

    monkeypatch.setattr(sys, "stdin", open(inputs, encoding="utf-8"))
    assert main(["translate", "--model", str(out)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4

    monkeypatch.setattr(sys, "stdin", open(inputs, encoding="utf-8"))
    assert main(["translate", "--model", str(out), "--beam-size", "3", "--n-best", "2"]) == 0
    rows = [line.split(" ||| ") for line in capsys.readouterr().out.splitlines()]
    assert [int(r[0]) for r in rows] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert all(float(rows[i][2]) >= float(rows[i + 1][2]) for i in range(0, 8, 2))

    assert main(["translate", "--model", str(out), "--n-best", "2"]) == 2
    assert "--beam-size" in capsys.readouterr().err

    sampled = []
    for seed in ("7", "7"):
        monkeypatch.setattr(sys, "stdin", open(inputs, encoding="utf-8"))
        assert main(["translate", "--model", str(out), "--sample", "--temperature", "1.5", "--top-p", "0.9",
                     "--seed", seed]) == 0
        sampled.append(capsys.readouterr().out.splitlines())
    assert len(sampled[0]) == 4 and sampled[0] == sampled[1]
    assert main(["translate", "--model", str(out), "--sample", "--top-p", "0"]) == 2
    assert "--top-p" in capsys.readouterr().err

    # No token twice in an output (a 1-gram never repeats), and a negative N is refused.
    monkeypatch.setattr(sys, "stdin", open(inputs, encoding="utf-8"))
    assert main(["translate", "--model", str(out), "--no-repeat-ngram", "1"]) == 0
    for line in capsys.readouterr().out.splitlines():
        assert len(line.split()) == len(set(line.split()))
    assert main(["translate", "--model", str(out), "--no-repeat-ngram", "-1"]) == 2
    assert "--no-repeat-ngram" in capsys.readouterr().err

    assert main(["evaluate", "--model", str(out), "--data", str(path), "--source-lang", "spa",
                 "--skip-bad-lines", "--samples", "2", "--beam-size", "2", "--length-penalty", "0.6"]) == 0
    report = capsys.readouterr().out
    for name in ("exact match", "token accuracy", "BLEU", "chrF"):
        assert name in report
    assert "BLEU tokenize    13a (detected: the references are not Chinese)" in report
    assert re.search(r"^BLEU +[\d.]+  nrefs:1\|case:mixed\|eff:no\|tok:13a\|", report, re.M)
    # --target-lang names the references' language: zh scores with sacreBLEU's Chinese tokenisation.
    assert main(["evaluate", "--model", str(out), "--data", str(path), "--source-lang", "spa",
                 "--skip-bad-lines", "--samples", "0", "--target-lang", "zh"]) == 0
    report = capsys.readouterr().out
    assert "BLEU tokenize    zh (--target-lang zh)" in report and "tok:zh" in report


def test_translate_with_a_broken_model_dir(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    assert main(["translate", "--model", str(tmp_path / "m")]) == 2
    assert "not a finished" in capsys.readouterr().err


def test_tasks_lists_examples(capsys):
    assert main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "dates" in out and "numbers" in out


def test_length_step_reaches_the_training_settings(capsys):
    from keras_seq2seq.cli import build_parser
    from keras_seq2seq.config import Settings, preset
    from keras_seq2seq.run_config import apply

    parser = build_parser()
    args = parser.parse_args(["train", "--data", "x.tsv", "--out", "runs/x", "--length-step", "16"])
    assert apply(preset("tatoeba-small"), vars(args)).train.length_step == 16
    unset = parser.parse_args(["train", "--data", "x.tsv", "--out", "runs/x"])
    assert apply(preset("tatoeba-small"), vars(unset)).train.length_step == 4
    assert apply(Settings(), vars(unset)).train.length_step == 8
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--data", "x.tsv", "--out", "runs/x", "--length-step", "0"])
    assert "--length-step" in capsys.readouterr().err
