import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.models import MaskedAccuracy, MaskedCrossEntropy, Seq2Seq


def _model(**kwargs):
    keras.utils.set_random_seed(1)
    model = Seq2Seq(20, 15, embedding_dim=8, units=16, **kwargs)
    model.build()
    return model


# Every encoder/attention option the model has, in a few combinations that cover each once.
VARIANTS = [
    dict(cell="lstm", num_layers=1),
    dict(cell="gru", num_layers=2),
    dict(attention="luong-general", bidirectional=True),
    dict(attention="luong-dot", cell="gru", num_layers=2, bridge=True),
    dict(attention="bahdanau", bidirectional=True, num_layers=2, dropout=0.2),
]
IDS = ["lstm", "gru-2", "general-bi", "dot-gru-bridge", "bahdanau-bi-2"]


@pytest.mark.parametrize("options", VARIANTS, ids=IDS)
def test_logits_shape(options):
    model = _model(**options)
    logits = model((np.ones((3, 7), "int32"), np.ones((3, 4), "int32")))
    assert tuple(logits.shape) == (3, 4, 15)


@pytest.mark.parametrize("options", VARIANTS, ids=IDS)
def test_one_step_decoder_matches_teacher_forcing(options):
    """Generation's step-by-step path computes exactly what training's sequence pass computes."""
    model = _model(**options)
    src = np.array([[5, 6, 7, 8], [9, 4, 0, 0]], "int32")
    tgt_in = np.array([[2, 8, 9, 10, 11], [2, 12, 13, 0, 0]], "int32")
    whole = ops.convert_to_numpy(model((src, tgt_in)))
    state, source = model.encode(src)
    for t in range(tgt_in.shape[1]):
        logits, state, weights = model.decode_step(tgt_in[:, t], state, source)
        np.testing.assert_allclose(ops.convert_to_numpy(logits), whole[:, t], rtol=1e-4, atol=1e-5)
        if options.get("attention"):
            np.testing.assert_array_equal(ops.convert_to_numpy(weights)[1, 2:], 0.0)


@pytest.mark.parametrize("options", VARIANTS, ids=IDS)
def test_source_padding_does_not_change_the_output(options):
    model = _model(**options)
    src = np.array([[5, 6, 7]], "int32")
    tgt = np.array([[2, 8, 9]], "int32")
    a = ops.convert_to_numpy(model((src, tgt)))
    b = ops.convert_to_numpy(model((np.pad(src, ((0, 0), (0, 5))), tgt)))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_target_padding_does_not_change_the_loss():
    model = _model()
    loss = MaskedCrossEntropy()
    src = np.array([[5, 6, 7, 0]], "int32")
    tgt_in, tgt_out = np.array([[2, 8, 9]], "int32"), np.array([[8, 9, 3]], "int32")
    short = float(loss(tgt_out, model((src, tgt_in))))
    padded_in, padded_out = np.pad(tgt_in, ((0, 0), (0, 5))), np.pad(tgt_out, ((0, 0), (0, 5)))
    long = float(loss(padded_out, model((src, padded_in))))
    assert short == pytest.approx(long, rel=1e-5)
    # An extra, fully padded row adds nothing either.
    rows_in, rows_out = np.concatenate([tgt_in, 0 * tgt_in]), np.concatenate([tgt_out, 0 * tgt_out])
    rows = float(loss(rows_out, model((np.concatenate([src, 0 * src]), rows_in))))
    assert short == pytest.approx(rows, rel=1e-5)


def test_loss_is_mean_over_real_tokens():
    logits = np.log(np.array([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]]], "float32"))
    y = np.array([[1, 1, 0]])  # third position is padding
    expected = -(np.log(0.25) + np.log(0.8)) / 2
    assert float(MaskedCrossEntropy()(y, logits)) == pytest.approx(expected, rel=1e-5)


def test_label_smoothing_raises_the_loss_of_a_confident_right_answer():
    logits = np.array([[[10.0, -10.0, -10.0, -10.0]]], "float32")
    y = np.array([[0 + 1]])
    logits = logits[..., [1, 0, 2, 3]]  # confident on id 1
    assert float(MaskedCrossEntropy(label_smoothing=0.1)(y, logits)) > float(MaskedCrossEntropy()(y, logits)) + 0.5


def test_label_smoothed_loss_is_the_smoothed_cross_entropy_of_log_softmax():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 7)).astype("float32") * 3
    y = np.array([[4, 1, 0], [6, 2, 5]])
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, y[..., None], -1)[..., 0]
    eps = 0.2
    per_token = -(1 - eps) * picked - eps * log_probs.mean(-1)
    expected = (per_token * (y != 0)).sum() / (y != 0).sum()
    assert float(MaskedCrossEntropy(label_smoothing=eps)(y, logits)) == pytest.approx(expected, rel=1e-5)


def test_masked_accuracy_ignores_padding():
    metric = MaskedAccuracy()
    logits = np.eye(4, dtype="float32")[[[1, 2, 2, 0]]]  # predicts 1, 2, 2, 0
    metric.update_state(np.array([[1, 3, 2, 0]]), logits)
    assert float(metric.result()) == pytest.approx(2 / 3)


def test_config_round_trip():
    model = _model(cell="gru", num_layers=2, dropout=0.1, attention="bahdanau", bidirectional=True, bridge=True)
    clone = Seq2Seq.from_config(model.get_config())
    assert (clone.cell, clone.num_layers, clone.units, clone.dropout) == ("gru", 2, 16, 0.1)
    assert (clone.attention, clone.bidirectional, clone.bridge) == ("bahdanau", True, True)


def test_bidirectional_needs_even_units():
    with pytest.raises(ValueError, match="even"):
        Seq2Seq(10, 10, units=15, bidirectional=True)


def test_param_init_draws_every_weight_uniformly_in_range():
    model = _model(attention="luong-general", bidirectional=True, num_layers=2, param_init=0.1)
    for variable in model.weights:
        values = np.asarray(variable)
        assert np.abs(values).max() <= 0.1, variable.path
        if values.size >= 100:  # no layer kept its own initialiser (zeros, ones, Glorot's smaller range)
            assert np.abs(values).max() > 0.09 and 0.045 < np.abs(values).mean() < 0.055, variable.path


def test_param_init_is_kept_in_the_config_and_zero_keeps_the_layers_initialisers():
    model = _model(param_init=0.05)
    loaded = Seq2Seq.from_config(model.get_config())  # as loading a file does: no draw, the file's weights follow
    loaded.build()
    assert loaded.param_init == 0.05 and np.count_nonzero(np.asarray(loaded.decoder.rnns[0].bias)) == 16
    bias = _model(param_init=0.0).decoder.rnns[0].bias
    assert np.count_nonzero(np.asarray(bias)) == 16  # zeros, and the LSTM forget gate at one
