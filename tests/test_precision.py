"""`precision`: a mixed 16-bit model computes in 16 bits, keeps float32 weights and logits, and
comes back from disk with the same policy and the same outputs."""

import numpy as np
import pytest
from keras import ops

from keras_seq2seq import Translator, task_splits
from keras_seq2seq.errors import ConfigError

TINY = dict(units=32, embedding_dim=16, attention="luong-general", bidirectional=True, max_output_len=12)


@pytest.fixture(scope="module")
def mixed():
    # Untrained: the policy, not the quality, is under test (training in bf16 is the same code).
    return Translator.create(task_splits("dates", train=200)["train"], preset_name="dates",
                             precision="mixed_bfloat16", **TINY)


def test_mixed_model_computes_in_bfloat16_with_float32_weights(mixed):
    model = mixed.model
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert all(str(v.dtype) == "float32" for v in model.weights)
    state, source = model.encode(np.array([[5, 6, 7]], "int32"))
    assert str(ops.convert_to_numpy(source[0]).dtype) == "bfloat16"  # the encoder's outputs
    logits, _, _ = model.decode_step(np.array([2], "int32"), state, source)
    assert str(logits.dtype) == "float32"


def test_mixed_model_round_trips(mixed, tmp_path):
    texts = ["march 3, 2001", "12/25/1999"]
    mixed.save(tmp_path / "m")
    loaded = Translator.load(tmp_path / "m")
    assert loaded.model.dtype_policy.name == "mixed_bfloat16"
    assert loaded.settings.model.precision == "mixed_bfloat16"
    assert loaded.translate(texts) == mixed.translate(texts)


def test_unknown_precision_is_refused():
    with pytest.raises(ConfigError, match="precision must be one of"):
        Translator.create(task_splits("dates", train=50)["train"], preset_name="dates", precision="float8", **TINY)


def test_a_mixed_transformer_computes_and_caches_in_bfloat16_and_round_trips(tmp_path):
    translator = Translator.create(task_splits("dates", train=200)["train"], preset_name="dates",
                                   precision="mixed_bfloat16", architecture="transformer", units=16, heads=2,
                                   num_layers=1, max_output_len=12)
    model = translator.model
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert all(str(v.dtype) == "float32" for v in model.weights)
    state, source = model.encode(np.array([[5, 6, 7]], "int32"), max_length=4)
    assert str(ops.convert_to_numpy(source[0][0][0]).dtype) == "bfloat16"  # the source's keys
    assert str(ops.convert_to_numpy(state["keys"][0]).dtype) == "bfloat16"  # the cache
    logits, state, weights = model.decode_step(np.array([2], "int32"), state, source)
    assert str(logits.dtype) == "float32" and str(ops.convert_to_numpy(weights).dtype) == "float32"
    texts = ["march 3, 2001", "12/25/1999"]
    translator.save(tmp_path / "m")
    loaded = Translator.load(tmp_path / "m")
    assert loaded.model.dtype_policy.name == "mixed_bfloat16"
    assert loaded.translate(texts) == translator.translate(texts)
