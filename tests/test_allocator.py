"""The malloc settings of allocator.py, measured in fresh processes: a compiled training-like step
(an output layer and its softmax gradient) faults far fewer pages in when freed memory is kept."""

import json
import subprocess
import sys

import pytest

from keras_seq2seq import allocator

# The gradient of logsumexp(a @ w): a 61 MB `1536 x 9921` logits buffer per call, freed after.
_PROBE = """
import json, resource
from keras_seq2seq.allocator import keep_freed_memory
keep_freed_memory()  # what the command line calls first thing (importing the package does not)
import jax, jax.numpy as jnp
step = jax.jit(jax.grad(lambda w, a: jax.nn.logsumexp(a @ w, axis=-1).sum()))
w, a = jnp.full((256, 9921), 0.01, "float32"), jnp.ones((1536, 256), "float32")
for _ in range(3):
    step(w, a).block_until_ready()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step(w, a).block_until_ready()
print(json.dumps({"faults": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20}))
"""


def faults_per_call(malloc_setting: str) -> float:
    env = {"KERAS_BACKEND": "jax", "SEQ2SEQ_MALLOC": malloc_setting, "PATH": ""}
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["faults"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings only")
def test_kept_memory_spares_most_page_faults():
    kept, system = faults_per_call("keep"), faults_per_call("system")
    # The logits alone are 15k pages of 4 KiB; glibc's defaults fault them in on every call
    # (measured: ~21k faults per call, against ~3k with memory kept).
    assert system > 10_000, system
    assert kept * 3 < system, (kept, system)


def test_opting_out_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_MALLOC", "system")
    assert allocator.keep_freed_memory() is False
