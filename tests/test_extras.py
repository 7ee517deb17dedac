"""Optional extras: each feature names the pip command for its missing packages, the extras in
pyproject.toml are the ones the code checks for, and the base install trains, translates and
evaluates with none of them."""

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from keras_seq2seq import extras
from keras_seq2seq.cli import main

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def hide(monkeypatch, *modules):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in modules else real(name, *a))


def test_a_missing_extra_names_its_pip_command(monkeypatch):
    hide(monkeypatch, "uvicorn")
    message = r"`seq2seq serve` needs uvicorn, .*pip install 'keras-seq2seq\[serve\]'"
    with pytest.raises(extras.MissingExtra, match=message):
        extras.require("serve", "`seq2seq serve`")
    extras.require("plot", "plots")  # installed here: nothing to say


@pytest.mark.parametrize("argv, extra", [
    (["serve", "--model", "runs/none"], "serve"),
    (["train", "--task", "dates", "--out", "OUT", "--tensorboard", "logs"], "tensorboard"),
    (["train", "--task", "dates", "--out", "OUT", "--source-tokenizer", "jieba"], "zh"),
    (["train", "--task", "dates", "--out", "OUT", "--target-convert", "t2s"], "zh"),
])
def test_commands_say_which_extra_before_doing_anything(monkeypatch, tmp_path, capsys, argv, extra):
    hide(monkeypatch, *extras.EXTRAS[extra])
    assert main([arg.replace("OUT", str(tmp_path / "m")) for arg in argv]) == 2
    assert f"pip install 'keras-seq2seq[{extra}]'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_the_extras_in_pyproject_are_the_ones_the_code_knows():
    optional = PROJECT["optional-dependencies"]
    for extra, modules in extras.EXTRAS.items():
        declared = {re.split(r"[<>=!~\[; ]", requirement)[0].lower() for requirement in optional[extra]}
        assert {module.lower() for module in modules} <= declared, extra
        assert f"keras-seq2seq[{','.join(extras.EXTRAS)}]" in optional["all"]
    assert optional["torch"] == ["torch==2.13.0"]  # never another torch


def test_the_base_requirements_are_ranges_and_hold_no_extra():
    for requirement in PROJECT["dependencies"]:
        assert re.search(r">=.*,<", requirement), f"{requirement}: give a compatible range, >=tested,<next major"
    names = {re.split(r"[<>=]", requirement)[0].lower() for requirement in PROJECT["dependencies"]}
    assert names.isdisjoint(m.lower() for modules in extras.EXTRAS.values() for m in modules)


BLOCK = """
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Refuse())
from keras_seq2seq.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_base_install_trains_translates_and_evaluates_without_any_extra(tmp_path):
    blocked = sorted({m for modules in extras.EXTRAS.values() for m in modules})
    script = tmp_path / "base.py"
    script.write_text(BLOCK.format(blocked=blocked))
    out = tmp_path / "model"

    def seq2seq(*argv, stdin=None):
        done = subprocess.run([sys.executable, str(script), *argv], capture_output=True, text=True, input=stdin,
                              timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    seq2seq("train", "--task", "reverse", "--task-size", "300", "--epochs", "1", "--units", "16",
            "--embedding-dim", "8", "--out", str(out))
    assert len(seq2seq("translate", "--model", str(out), stdin="abc\nhello\n").splitlines()) == 2
    assert "BLEU" in seq2seq("evaluate", "--model", str(out), "--task", "reverse", "--samples", "0")
    # And the blocking works: a feature of an extra says what to install.
    done = subprocess.run([sys.executable, str(script), "translate", "--model", str(out), "--plot-attention",
                           str(tmp_path / "plots")], capture_output=True, text=True, input="abc\n", timeout=300)
    assert done.returncode == 2 and "pip install 'keras-seq2seq[plot]'" in done.stderr
