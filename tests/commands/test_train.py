"""`seq2seq train` as a toolkit user meets it: real defaults in --help, values checked before any
data is read, a finished model kept unless --overwrite, plain progress lines when stderr is no
terminal (and in --log-file), and a model directory that describes itself (README.md, train.yaml)."""

import json
import re
import subprocess
import sys

import pytest

from keras_seq2seq.cli import build_parser, main
from keras_seq2seq.commands.config_file import apply_config_file
from keras_seq2seq.commands.options import read_pairs
from keras_seq2seq.commands.train import check
from keras_seq2seq.config import preset

SPANISH = ["uno", "dos", "tres", "cuatro", "cinco"]
ENGLISH = ["one", "two", "three", "four", "five"]


def corpus(directory, name="pairs.tsv", english_first=False):
    """Spanish-English pairs, Spanish first unless `english_first` (as Tatoeba splits are)."""
    lines = []
    for i in range(5):
        for j in range(5):
            spanish, english = f"{SPANISH[i]} {SPANISH[j]}.", f"{ENGLISH[i]} {ENGLISH[j]}."
            lines.append(f"{english}\t{spanish}" if english_first else f"{spanish}\t{english}")
    path = directory / name
    path.write_text("\n".join(lines * 4) + "\n", encoding="utf-8")
    return path


TINY = ["--epochs", "1", "--units", "16", "--embedding-dim", "8", "--dev-size", "10", "--batch-size", "16"]


def test_version():
    done = subprocess.run([sys.executable, "-m", "keras_seq2seq.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and re.fullmatch(r"keras-seq2seq \d+\.\d+\.\d+\n", done.stdout)


def test_help_shows_real_defaults_and_never_none():
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    text = " ".join(text.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "--epochs EPOCHS most epochs to train (default: from the preset: 20 (tatoeba-word)" in text
    assert "30 (dailydialog-small, tatoeba-small, tatoeba-subword)" in text and "10 (dates)" in text
    # a preset's own dev selection is named too (argparse may wrap the line after a hyphen)
    assert re.search(r"loss \(dailydialog-small, tatoeba- ?transformer\)\)", text)
    assert "--clipnorm CLIPNORM global gradient-norm clip (0: off) (default: 1.0)" in text  # the same everywhere
    assert "--out DIR model directory to write (required) --overwrite" in text  # no default shown


@pytest.mark.parametrize("flags, message", [
    (["--learning-rate", "-1"], "--learning-rate must be > 0, got -1"),
    (["--dropout", "2"], r"--dropout must be in \[0, 1\), got 2"),
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--plateau-factor", "1"], r"--plateau-factor must be in \(0, 1\), got 1"),
    (["--batch-tokens", "x"], "--batch-tokens expected a whole number, got 'x'"),
])
def test_bad_values_are_refused_naming_the_flag_before_any_data_is_read(tmp_path, capsys, flags, message):
    # The data file does not exist: a message about it would mean it was looked at first.
    with pytest.raises(SystemExit) as exit:
        main(["train", "--data", str(tmp_path / "absent.tsv"), "--out", str(tmp_path / "m"), *flags])
    assert exit.value.code == 2 and re.search(message, capsys.readouterr().err)


def test_settings_that_do_not_fit_together_are_named_by_their_flags(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "absent.tsv"), "--out", str(tmp_path / "m"),
                 "--joint-vocab", "--tokenizer", "word"]) == 2
    assert "seq2seq: error: --joint-vocab shares one SentencePiece model" in capsys.readouterr().err
    assert main(["train", "--task", "dates", "--out", str(tmp_path / "m"), "--batch-tokens", "2000", "--stream"]) == 2
    assert "--stream" in capsys.readouterr().err


def parsed(argv):
    args = build_parser().parse_args(argv)
    args.argv = argv
    return apply_config_file(args) if args.config else args


def test_a_config_file_sets_options_and_the_command_line_wins(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("task: dates\npreset: tatoeba-small\nepochs: 7\nlearning-rate: 0.01\nbidirectional: false\n"
                    "source_tokenizer: {kind: char, lowercase: true}\nresume: false\n")
    args = parsed(["train", "--config", str(path), "--out", str(tmp_path / "m"), "--epochs", "3", "--bidirectional"])
    settings, name = check(args)
    assert name == "tatoeba-small" and args.resume is False
    assert settings.train.epochs == 3 and settings.model.bidirectional  # the flags
    assert settings.train.learning_rate == 0.01  # the file (a dash is read as an underscore)
    assert settings.text.source_tokenizer == {"kind": "char", "lowercase": True}
    assert settings.model.units == preset("tatoeba-small").model.units  # the preset


@pytest.mark.parametrize("text, message", [
    ("task: dates\nlerning_rate: 0.1\n", r"run.yaml:2: unknown option 'lerning_rate' \(did you mean learning_rate\?\)"),
    ("task: dates\n\nepochs: 0\n", "run.yaml:3: epochs must be at least 1, got 0"),
    ("task: dates\nlearning_rate: -1\n", "run.yaml:2: learning_rate must be > 0, got -1"),
    ("task: dates\nattention: global\n", "run.yaml:2: attention: 'global' is not one of none, bahdanau"),
    ("task: dates\nbridge: yes please\n", "run.yaml:2: bridge: expected true or false"),
    ("task: dates\nunits: [1, 2]\n", "run.yaml:2: units: expected a single value"),
    ("config: other.yaml\n", "run.yaml:1: config: a config file cannot name another one"),
])
def test_a_bad_config_file_names_the_key_and_its_line(tmp_path, capsys, text, message):
    (tmp_path / "run.yaml").write_text(text)
    assert main(["train", "--config", str(tmp_path / "run.yaml"), "--out", str(tmp_path / "m")]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "m").exists()


def test_a_finished_model_is_kept_unless_overwrite_and_an_unfinished_run_resumes(tmp_path):
    out = tmp_path / "m"
    out.mkdir()
    (out / "config.json").write_text("{}")
    args = parsed(["train", "--task", "dates", "--out", str(out)])
    with pytest.raises(Exception, match="holds a finished model.*--overwrite"):
        check(args)
    check(parsed(["train", "--task", "dates", "--out", str(out), "--overwrite"]))
    (out / "checkpoint").mkdir()
    (out / "checkpoint" / "trainer.json").write_text("{}")
    check(args)  # a run to resume: no --overwrite needed


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run on a Tatoeba-like folder (with manythings' _about.txt), stderr captured: not a terminal."""
    root = tmp_path_factory.mktemp("train")
    data = root / "spa-eng"
    data.mkdir()
    train = corpus(data, "train.tsv", english_first=True)
    test = corpus(data, "test.tsv", english_first=True)
    (data / "_about.txt").write_text("This data is from the sentences_detailed.csv file from tatoeba.org.\n")
    out, log = root / "model", root / "train.log"
    argv = ["train", "--data", str(train), "--source-lang", "spa", "--test", str(test), "--out", str(out),
            "--log-file", str(log), "--log-every", "2", *TINY]
    capture = subprocess.run([sys.executable, "-m", "keras_seq2seq.cli", *argv], capture_output=True, text=True,
                             timeout=600)
    assert capture.returncode == 0, capture.stderr
    return {"root": root, "out": out, "log": log, "train": train, "test": test, "argv": argv, "run": capture}


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(trained):
    err = trained["run"].stderr
    assert "\r" not in err and "\x1b" not in err and "━" not in trained["run"].stdout  # no bar, no colours
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d epoch 1/1 step 2/\d+: loss [\d.]+, .*epoch ETA \w+$",
                     err, re.MULTILINE), err
    assert re.search(r"epoch 1/1 done in \d+s: .*val_bleu", err)
    log = trained["log"].read_text()
    assert "started: seq2seq train --data" in log and "epoch 1/1 done in" in log and "finished: saved" in log
    assert "\r" not in log and "\x1b" not in log


def test_the_model_directory_describes_itself(trained):
    out = trained["out"]
    card = (out / "README.md").read_text()
    size = trained["train"].stat().st_size
    assert f"| train | `{trained['train']}` | {size:,} | 100 |" in card
    assert "Read as a Tatoeba/Anki file, English in column 0, source language spa." in card
    assert "CC BY 2.0 FR" in card and "www.manythings.org/anki and tatoeba.org" in card  # from _about.txt
    assert re.search(r"\| dev, best evaluation \(epoch 1, step \d+\), greedy \| [\d.]+ \| [\d.]+ \|", card)
    assert re.search(rf"\| test `{re.escape(str(trained['test']))}`, 100 sentences, greedy \| [\d.]+ \|", card)
    assert "BLEU signature: `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:" in card
    assert "chrF signature: `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:" in card
    assert "seq2seq train --data" in card and "--log-every 2" in card  # the command that made it
    assert re.search(r"- time: [\d,]+ s .*target tokens/s", card) and "- hardware: " in card
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["format"] == "anki" and config["data"]["source_lang"] == "spa"
    assert config["test"]["bleu"] == pytest.approx(config["test"]["bleu"]) and "signatures" in config["test"]
    assert (out / "train.yaml").read_text() in card


def test_the_saved_options_train_the_same_model_again(trained, tmp_path, capsys):
    from keras_seq2seq.run_config import load

    assert main(["config", "--model", str(trained["out"])]) == 0
    printed = capsys.readouterr().out
    (tmp_path / "again.yaml").write_text(printed)
    values = {key: value for key, (value, _) in load(tmp_path / "again.yaml").items()}
    assert values == {key: value for key, (value, _) in load(trained["out"] / "train.yaml").items()}
    args = parsed(["train", "--config", str(tmp_path / "again.yaml"), "--out", str(tmp_path / "x")])
    settings, _ = check(args)
    assert read_pairs(args, args.data)[0].source == read_pairs(parsed(trained["argv"]), trained["train"])[0].source
    saved = json.loads((trained["out"] / "config.json").read_text())["settings"]
    for side in ("source_tokenizer", "target_tokenizer"):  # the defaults a file spells out
        saved["text"][side] = {"lowercase": False, "normalize": "NFC", **saved["text"][side]}
    assert settings.to_dict() == saved
    assert {"data", "source_lang", "test", "preset", "epochs", "units"} <= set(values)
    assert "task_size" not in values and "dev_size" in values  # what this run used, nothing else
    assert "source_column" not in values  # an anki file's direction is its source language


def test_training_into_the_finished_model_again_is_refused(trained, capsys):
    assert main(trained["argv"]) == 2
    assert "holds a finished model" in capsys.readouterr().err


def test_evaluate_cites_its_scores_and_keeps_outputs_and_scores(trained, tmp_path, capsys):
    hypotheses, scores = tmp_path / "hyp.txt", tmp_path / "scores.json"
    # No reading flags: the test file is read as the model's training data was (Spanish source).
    assert main(["evaluate", "--model", str(trained["out"]), "--data", str(trained["test"]), "--output",
                 str(hypotheses), "--json", str(scores), "--samples", "0"]) == 0
    captured = capsys.readouterr()
    assert re.search(r"^BLEU +[\d.]+  nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:", captured.out,
                     re.MULTILINE)
    assert re.search(r"^chrF +[\d.]+  nrefs:1\|case:mixed\|eff:yes\|nc:6", captured.out, re.MULTILINE)
    assert "read as the model's training data was read" in captured.err
    assert len(hypotheses.read_text().splitlines()) == 100
    record = json.loads(scores.read_text())
    assert set(record) >= {"bleu", "chrf", "signatures", "exact_match", "sentences", "search", "model", "data"}
    assert record["sentences"] == 100 and record["search"]["beam_size"] == 1 and "hypotheses" not in record


def test_test_data_is_read_as_the_model_was_trained_old_models_included():
    from keras_seq2seq.commands.options import model_reading

    old = {"data": {"file": "pairs.tsv", "format": "auto", "source_lang": None, "source_column": 1, "target_column": 0}}
    assert model_reading(old) == {"format": None, "source_lang": None, "source_column": 1, "target_column": 0}
    tatoeba = {"data": {"file": "train.tsv", "format": "auto", "source_lang": "spa", "source_column": 1,
                        "target_column": 0}}
    assert model_reading(tatoeba) == {"format": "anki", "source_lang": "spa", "source_column": None,
                                      "target_column": None}
    recognised = {"data": {"file": "cmn.txt", "format": "anki", "source_lang": None, "source_column": 1,
                           "target_column": 0}}
    assert model_reading(recognised)["format"] == "anki"
    assert set(model_reading({"data": {"task": "dates"}}).values()) == {None}
    assert set(model_reading({"data": {"file": "a.src", "format": "aligned"}}).values()) == {None}


def test_streaming_with_a_token_batch_preset_trains_on_its_sentence_batches(tmp_path):
    data = corpus(tmp_path)
    argv = ["train", "--data", str(data), "--dev", str(data), "--stream", "--preset", "tatoeba-small",
            "--out", str(tmp_path / "m")]
    settings, _ = check(parsed(argv))
    assert (settings.train.batch_tokens, settings.train.batch_size) == (0, 128)
    with pytest.raises(Exception, match="--stream"):  # asked for by name, token batches cannot stream
        check(parsed([*argv, "--batch-tokens", "2048"]))
