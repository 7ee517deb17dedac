"""Importing the package changes nothing in the process; the command line chooses for itself; a
program that chose no usable backend is told what to set."""

import json
import os
import subprocess
import sys

PROBE = """
import json, os, sys
before = dict(os.environ)
import keras_seq2seq
from keras_seq2seq import read_corpus, Settings, task_splits  # no Keras needed, none loaded
print(json.dumps({"environment_changed": dict(os.environ) != before,
                  "allocator_loaded": "keras_seq2seq.allocator" in sys.modules,
                  "keras_loaded": "keras" in sys.modules}))
"""


def clean_environment(tmp_path, **extra):
    env = {key: value for key, value in os.environ.items()
           if key not in ("KERAS_BACKEND", "SEQ2SEQ_MALLOC", "JAX_COMPILATION_CACHE_DIR")}
    return {**env, "KERAS_HOME": str(tmp_path), **extra}


def test_importing_the_package_changes_nothing_process_wide(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                          env=clean_environment(tmp_path))
    assert json.loads(done.stdout) == {"environment_changed": False, "allocator_loaded": False,
                                       "keras_loaded": False}


def test_a_program_without_a_usable_backend_is_told_what_to_set(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))  # Keras' own default
    done = subprocess.run([sys.executable, "-c", "from keras_seq2seq import Translator"], capture_output=True,
                          text=True, env=clean_environment(tmp_path))
    assert done.returncode == 1
    assert "Keras would start on its 'tensorflow' backend" in done.stderr and "KERAS_BACKEND=jax" in done.stderr
    assert "keras_seq2seq.backend.BackendUnavailable" in done.stderr


def test_the_command_line_runs_on_jax_unless_told_otherwise(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    code = "import keras_seq2seq.cli as c, os; c.backend.use_default(); print(os.environ['KERAS_BACKEND'])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=clean_environment(tmp_path)).stdout.strip() == "jax"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=clean_environment(tmp_path, KERAS_BACKEND="torch")).stdout.strip() == "torch"


def test_an_uninstalled_backend_on_the_command_line_is_one_error_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "keras_seq2seq.cli", "tasks"], capture_output=True, text=True,
                          env=clean_environment(tmp_path, KERAS_BACKEND="nonesuch"))
    assert done.returncode == 2
    assert done.stderr.startswith("seq2seq: error: Keras would start on its 'nonesuch' backend (KERAS_BACKEND)")
