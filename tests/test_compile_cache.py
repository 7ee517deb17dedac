"""The command line's compile cache: where it goes, how to turn it off, and that a start fills it."""

import os
import subprocess
import sys

from keras_seq2seq import Translator, compile_cache, task_splits


def test_default_location_user_choice_and_off(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "jax")  # as in a fresh `seq2seq` process
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("SEQ2SEQ_COMPILE_CACHE", "on")
    assert compile_cache.enable() == tmp_path / "keras-seq2seq" / "xla"
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "keras-seq2seq" / "xla")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "mine"))
    assert compile_cache.enable() == tmp_path / "mine"
    monkeypatch.setenv("SEQ2SEQ_COMPILE_CACHE", "off")
    assert compile_cache.enable() is None


def test_the_cache_is_capped_unless_the_user_chose_a_cap(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "jax")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("SEQ2SEQ_COMPILE_CACHE", "on")
    monkeypatch.delenv("JAX_COMPILATION_CACHE_MAX_SIZE", raising=False)
    compile_cache.enable()
    assert os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] == str(compile_cache.MAX_SIZE)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_MAX_SIZE", "-1")
    compile_cache.enable()
    assert os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] == "-1"


def test_a_full_cache_drops_the_oldest_programs(tmp_path):
    """Forty programs into a cache capped (by `enable`, at a smaller MAX_SIZE) at a few of them."""
    cap = 40_000
    script = (
        "import sys; sys.modules.pop('jax', None)\n"
        f"from keras_seq2seq import compile_cache; compile_cache.MAX_SIZE = {cap}; compile_cache.enable()\n"
        "import jax, jax.numpy as jnp\n"
        "for n in range(40):\n"
        "    jax.jit(lambda x, n=n: jnp.tanh(x @ x.T + n).sum(axis=0) * n)(jnp.ones((n + 3, 5)))\n")
    env = {**os.environ, "SEQ2SEQ_COMPILE_CACHE": "on", "XDG_CACHE_HOME": str(tmp_path),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
    for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_COMPILATION_CACHE_MAX_SIZE"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    entries = list((tmp_path / "keras-seq2seq" / "xla").glob("*-cache"))
    assert entries, "nothing was cached"
    assert sum(p.stat().st_size for p in entries) <= cap
    assert len(entries) < 40


def test_jax_already_imported_is_left_alone(monkeypatch):
    import jax  # noqa: F401

    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("SEQ2SEQ_COMPILE_CACHE", "on")
    assert compile_cache.enable() is None
    assert "JAX_COMPILATION_CACHE_DIR" not in os.environ


def test_translate_fills_the_cache_and_answers_the_same_from_it(tmp_path):
    model = tmp_path / "model"
    Translator.train(task_splits("dates", train=300)["train"], preset="dates", epochs=1, verbose=0,
                     units=16, embedding_dim=8, max_output_len=12).save(model)
    # JAX stores only programs that took a second to compile; a tiny model's take less.
    env = {**os.environ, "SEQ2SEQ_COMPILE_CACHE": "on", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    command = [sys.executable, "-m", "keras_seq2seq.cli", "translate", "--model", str(model)]
    first = subprocess.run(command, input="July 4, 1976\n", capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    cached = list((tmp_path / "cache" / "keras-seq2seq" / "xla").iterdir())
    assert any("predict_step" in p.name for p in cached)
    second = subprocess.run(command, input="July 4, 1976\n", capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0 and second.stdout == first.stdout


def test_programs_cached_without_a_cap_do_not_stop_a_capped_process_storing_new_ones(tmp_path):
    """A cache filled by a process without a cap (no `-atime` records) and then used with one: the
    capped process must still store its new programs (JAX's eviction reads every record)."""
    script = (
        "import sys; sys.modules.pop('jax', None)\n"
        "from keras_seq2seq import compile_cache; compile_cache.enable()\n"
        "import jax, jax.numpy as jnp\n"
        "for n in range(int(sys.argv[1]), int(sys.argv[2])):\n"
        "    jax.jit(lambda x, n=n: jnp.tanh(x @ x.T + n).sum(axis=0) * n)(jnp.ones((n + 3, 5)))\n")
    env = {**os.environ, "SEQ2SEQ_COMPILE_CACHE": "on", "XDG_CACHE_HOME": str(tmp_path),
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0", "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    cache = tmp_path / "keras-seq2seq" / "xla"
    uncapped = subprocess.run([sys.executable, "-c", script, "0", "3"], capture_output=True, text=True,
                              env={**env, "JAX_COMPILATION_CACHE_MAX_SIZE": "-1"}, timeout=300)
    assert uncapped.returncode == 0, uncapped.stderr
    before = {p.name for p in cache.glob("*-cache")}
    assert before and not list(cache.glob("*-atime"))
    env.pop("JAX_COMPILATION_CACHE_MAX_SIZE", None)
    capped = subprocess.run([sys.executable, "-c", script, "3", "6"], capture_output=True, text=True, env=env,
                            timeout=300)
    assert capped.returncode == 0, capped.stderr
    assert "Error writing persistent compilation cache entry" not in capped.stderr
    assert len({p.name for p in cache.glob("*-cache")} - before) >= 3
