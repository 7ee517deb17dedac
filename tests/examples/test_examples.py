"""The literate examples run start to finish (small settings, so the suite stays quick)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
pytestmark = pytest.mark.slow


def _run(script: str, *args: str, cwd: Path) -> str:
    env = {**os.environ, "EXAMPLE_QUICK": "1", "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def test_layers_up_example_trains_and_decodes(tmp_path):
    out = _run("seq2seq_from_the_layers_up.py", cwd=tmp_path)
    assert "parameters" in out
    assert "exact match on 200 test dates:" in out


def test_spanish_example_runs_the_cli_path_on_a_folder_of_pairs(tmp_path):
    data = tmp_path / "pairs"
    data.mkdir()
    lines = [f"I see {n} cats.\tVeo {n} gatos." for n in range(300)]
    for name, part in (("train.tsv", lines[:240]), ("dev.tsv", lines[240:270]), ("test.tsv", lines[270:])):
        (data / name).write_text("\n".join(part) + "\n", encoding="utf-8")
    out = _run("translate_spanish_to_english.py", "--data-dir", str(data), "--out", str(tmp_path / "model"),
               "--minutes", "1", "--extra", "--epochs 1 --units 16 --embedding-dim 8 --layers 1 --quiet",
               cwd=tmp_path)
    assert "$ seq2seq evaluate" in out and "BLEU" in out
    assert (tmp_path / "model" / "model.keras").is_file()


def test_spanish_example_says_where_to_get_missing_pairs(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "translate_spanish_to_english.py"),
                           "--data-dir", str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert done.returncode != 0
    assert "seq2seq data download spa-eng" in done.stderr
