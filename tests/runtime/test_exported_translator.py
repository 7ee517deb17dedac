"""The runtime translates like the Keras model, without loading Keras, JAX or torch."""

import os
import subprocess
import sys

import numpy as np
import pytest

from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.runtime import load

SENTENCES = ["July 4, 1976", "", "3/14/2015", "Wednesday, May 19, 1915"]


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def test_runtime_decodes_without_keras_jax_or_torch(model_and_export):
    translator, _, export = model_and_export
    program = (
        "import sys\n"
        "from keras_seq2seq.runtime import load\n"
        f"t = load({str(export)!r})\n"
        f"print(t.translate({SENTENCES!r}, beam_size=3)[0])\n"
        "loaded = [m for m in ('keras', 'jax', 'jaxlib', 'torch', 'tensorflow') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=_clean_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == translator.translate(SENTENCES, beam_size=3)[0]


def test_module_command_translates_stdin(model_and_export):
    translator, _, export = model_and_export
    done = subprocess.run([sys.executable, "-m", "keras_seq2seq.runtime", "--model", str(export), "--beam-size", "2",
                           "--n-best", "2"], input="\n".join(SENTENCES) + "\n", capture_output=True, text=True,
                          env=_clean_env())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    expected = translator.translate_n_best(SENTENCES, 2, beam_size=2)
    assert [line.split(" ||| ")[1] for line in lines] == [text for hypotheses in expected for text, _ in hypotheses]
    broken = subprocess.run([sys.executable, "-m", "keras_seq2seq.runtime", "--model", str(export / "nowhere")],
                            input="x\n", capture_output=True, text=True, env=_clean_env())
    assert broken.returncode == 2 and broken.stderr.count("\n") == 1
    assert broken.stderr.startswith("seq2seq-runtime: error: ")


def test_replace_unk_and_alignments_follow_the_keras_model(model_and_export):
    translator, _, export = model_and_export
    exported = load(export)
    assert exported.translate(SENTENCES, replace_unk=True) == translator.translate(SENTENCES, replace_unk=True)
    for e, a in zip(translator.align(SENTENCES, beam_size=2), exported.align(SENTENCES, beam_size=2)):
        assert a.target_tokens == e.target_tokens
        np.testing.assert_allclose(a.weights, e.weights, atol=1e-4)


def test_what_the_runtime_cannot_do_is_refused(model_and_export):
    exported = load(model_and_export[2])
    with pytest.raises(Seq2SeqError, match="greedy and beam search only; sampling"):
        exported.translate(SENTENCES, sampling={"temperature": 1.0})
    with pytest.raises(Seq2SeqError, match="no_repeat_ngram"):
        exported.translate(SENTENCES, no_repeat_ngram=2)
    with pytest.raises(ValueError, match="n_best"):
        exported.translate_n_best(SENTENCES, n_best=3, beam_size=2)
    with pytest.raises(TypeError):
        exported.translate("one string")
    with pytest.raises(Seq2SeqError, match="no vocabulary shortlist"):
        exported.use_shortlist(5)  # this model was saved without shortlist.json


def test_batches_of_empty_lines_decode_to_nothing(model_and_export):
    exported = load(model_and_export[2])
    assert exported.translate(["", " "]) == ["", ""]
    assert exported.translate_n_best([""], 2, beam_size=3) == model_and_export[0].translate_n_best([""], 2, beam_size=3)
    assert exported.translate([]) == []
