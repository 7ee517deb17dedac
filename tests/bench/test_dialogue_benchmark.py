"""bench/dialogue.py's own plumbing: each model trains with `seq2seq train` in a process of its own
(one process that trained and then decoded ran out of Linux's memory mappings), and the rule
that picks each side's decoding."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import dialogue  # noqa: E402  (bench/dialogue.py, found through the path above)


def test_each_model_trains_in_a_process_of_its_own(tmp_path, monkeypatch):
    started = []

    def run(command, env):
        started.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(dialogue.subprocess, "run", run)
    train = [("hi ¶ how are you ?", "fine , thanks ."), ("see you", "bye !")]
    dialogue.train_in_own_process(tmp_path, "forward", train, train[:1], tmp_path / "model", 27.0)
    [command] = started
    assert command[:4] == [sys.executable, "-m", "keras_seq2seq.cli", "train"]
    flags = dict(zip(command[4::2], command[5::2]))
    assert flags["--preset"] == "dailydialog-small" and flags["--max-minutes"] == "27"
    assert flags["--out"] == str(tmp_path / "model") and "--overwrite" in command
    assert Path(flags["--data"]).read_text(encoding="utf-8") == (
        "hi ¶ how are you ?\tfine , thanks .\nsee you\tbye !\n")
    assert Path(flags["--dev"]).read_text(encoding="utf-8") == "hi ¶ how are you ?\tfine , thanks .\n"


def test_a_failed_training_stops_the_benchmark(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dialogue.subprocess, "run", lambda command, env: subprocess.CompletedProcess(command, 1))
    with pytest.raises(SystemExit) as stopped:
        dialogue.train_in_own_process(tmp_path, "reverse", [("a", "b")], [("a", "b")], tmp_path / "m", 3.0)
    assert stopped.value.code == 1 and "training the reverse model failed" in capsys.readouterr().err


def test_the_best_dev_bleu_among_settings_that_avoid_the_generic_reply_trap():
    tried = {"beam": {"bleu": 0.6, "top10_share": 0.7}, "warm": {"bleu": 0.3, "top10_share": 0.05},
             "hot": {"bleu": 0.2, "top10_share": 0.02}}
    assert dialogue.choose(tried) == "warm"
    assert dialogue.choose({"beam": tried["beam"], "greedy": {"bleu": 0.5, "top10_share": 0.9}}) == "beam"
