"""Tied target embeddings: the output layer is the embedding matrix, transposed (one variable)."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.models import Seq2Seq

SRC = np.array([[5, 6, 7, 8], [9, 4, 0, 0]], "int32")
TGT_IN = np.array([[2, 8, 9, 10, 11], [2, 12, 13, 0, 0]], "int32")
VARIANTS = {
    "same-size": dict(embedding_dim=16, units=16),
    "projected": dict(embedding_dim=8, units=16),
    "attention": dict(embedding_dim=8, units=16, attention="luong-general", num_layers=2),
}


def _model(tie=True, **options):
    keras.utils.set_random_seed(3)
    model = Seq2Seq(20, 15, tie_embeddings=tie, **options)
    model.build()
    return model


@pytest.mark.parametrize("name", ["same-size", "projected"])
def test_output_layer_is_the_embedding_matrix(name):
    options = VARIANTS[name]
    model = _model(**options)
    decoder = model.decoder
    table = decoder.embedding.embeddings
    # One variable of that shape, no separate output kernel.
    assert [w for w in model.weights if tuple(w.shape) == (15, options["embedding_dim"])] == [table]
    assert not any(tuple(w.shape)[-1:] == (15,) and len(w.shape) == 2 for w in model.weights)
    untied = _model(tie=False, **options)
    projection = 0 if options["embedding_dim"] == options["units"] else options["units"] * options["embedding_dim"]
    assert untied.count_params() - model.count_params() == options["units"] * 15 - projection
    # Zero a token's embedding row: its logit becomes the bias alone, whatever the decoder state.
    decoder.output_bias.assign(np.arange(15, dtype="float32"))
    scale = np.ones((15, 1), "float32")
    scale[7], scale[8] = 0.0, 1000.0  # token 8's row made large: its logits clearly vary
    table.assign(ops.convert_to_numpy(table) * scale)
    logits = ops.convert_to_numpy(model((SRC, TGT_IN)))
    np.testing.assert_allclose(logits[..., 7], 7.0, atol=1e-6)
    assert np.ptp(logits[..., 8]) > 1e-2


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_step_by_step_logits_equal_teacher_forced_logits(options):
    model = _model(**options)
    whole = ops.convert_to_numpy(model((SRC, TGT_IN)))
    state, source = model.encode(SRC)
    for t in range(TGT_IN.shape[1]):
        logits, state, _ = model.decode_step(TGT_IN[:, t], state, source)
        np.testing.assert_allclose(ops.convert_to_numpy(logits), whole[:, t], rtol=1e-4, atol=1e-5)


def test_save_and_load_keep_the_tying(tmp_path):
    model = _model(**VARIANTS["projected"])
    path = tmp_path / "tied.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    assert loaded.tie_embeddings and loaded.decoder.tie_embeddings
    assert not hasattr(loaded.decoder, "output_layer")
    np.testing.assert_allclose(ops.convert_to_numpy(loaded((SRC, TGT_IN))),
                               ops.convert_to_numpy(model((SRC, TGT_IN))), rtol=1e-6, atol=1e-6)
    assert Seq2Seq.from_config(model.get_config()).tie_embeddings


def test_training_updates_the_shared_matrix_from_both_ends():
    """The embedding gets gradient from the output layer too: a token never fed in still moves."""
    model = _model(**VARIANTS["same-size"])
    before = ops.convert_to_numpy(model.decoder.embedding.embeddings).copy()
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    target_out = np.array([[14, 14, 14, 14, 14], [14, 14, 14, 0, 0]], "int32")  # 14 is never an input
    model.fit((SRC, TGT_IN), target_out, epochs=1, verbose=0)
    after = ops.convert_to_numpy(model.decoder.embedding.embeddings)
    assert np.abs(after[14] - before[14]).max() > 1e-4
