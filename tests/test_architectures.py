"""Model selection: settings -> the recurrent Seq2Seq or the Transformer, built."""

import dataclasses

import keras
import numpy as np
import pytest

from keras_seq2seq.architectures import build_model
from keras_seq2seq.config import ModelSettings
from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.transformer import Transformer


def test_rnn_settings_build_the_model_they_always_built():
    settings = ModelSettings(units=16, embedding_dim=8, attention="luong-general", bidirectional=True,
                             num_layers=2, param_init=0.1)
    keras.utils.set_random_seed(0)
    model = build_model(settings, 30, 20)
    assert type(model) is Seq2Seq and model.built
    fields = dataclasses.asdict(settings)
    fields.pop("precision")
    for name in ("architecture", "heads", "ffn_dim", "decoder_layers", "attention_dropout", "pre_norm",
                 "positions", "share_embeddings"):
        fields.pop(name)
    keras.utils.set_random_seed(0)
    before = Seq2Seq(30, 20, dtype="float32", **fields)  # how translator.py built it until now
    before.build()
    assert {**model.get_config(), "name": ""} == {**before.get_config(), "name": ""}
    for ours, theirs in zip(model.weights, before.weights):  # same draws from the same seed
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(theirs))


def test_transformer_settings_build_a_transformer_of_those_sizes():
    settings = ModelSettings(architecture="transformer", units=32, num_layers=3, decoder_layers=1, heads=4,
                             ffn_dim=48, dropout=0.2, attention_dropout=0.0, pre_norm=False,
                             positions="learnt", tie_embeddings=True, precision="mixed_bfloat16")
    model = build_model(settings, 30, 20)
    assert type(model) is Transformer and model.built
    assert (len(model.encoder.blocks), len(model.decoder.blocks)) == (3, 1)
    assert model.decoder.blocks[0].feed_forward.hidden == 48
    assert model.encoder.embedding.embeddings.shape == (30, 32)
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert not model.decoder.pre_norm and model.decoder.positions == "learnt" and model.decoder.tie_embeddings


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_both_speak_the_search_protocol(architecture):
    model = build_model(ModelSettings(architecture=architecture, units=16, heads=2, attention="luong-dot"), 12, 9)
    assert model.decoder.has_attention
    state, source = model.encode(keras.ops.ones((2, 3), "int32"), max_length=4)
    logits, state, weights = model.decode_step(keras.ops.full((2,), 2, "int32"), state, source)
    assert tuple(logits.shape) == (2, 9) and tuple(weights.shape) == (2, 3)
    kernel, bias = model.decoder.shortlist_output(keras.ops.convert_to_tensor([3, 5, -1]))
    assert tuple(bias.shape) == (3,)
