"""The Transformer model: its teacher-forced pass, its cached one-step decoder, and its config."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq2seq.transformer import Transformer

SRC = np.array([[5, 6, 7, 8, 9, 10], [9, 4, 11, 0, 0, 0], [12, 0, 0, 0, 0, 0]], "int32")
TGT_IN = np.array([[2, 8, 9, 10, 11, 12, 13], [2, 12, 13, 14, 0, 0, 0], [2, 5, 0, 0, 0, 0, 0]], "int32")

# Every option, each covered once; dropout is on where it must not matter (inference).
VARIANTS = {
    "pre-norm": dict(num_layers=2),
    "post-norm": dict(num_layers=2, pre_norm=False),
    "learnt-positions": dict(num_layers=1, positions="learnt", max_positions=16),
    "shared-tied": dict(num_layers=2, share_embeddings=True, tie_embeddings=True),
    "deep-shallow": dict(num_layers=3, decoder_layers=1, ffn_dim=24, dropout=0.3, attention_dropout=0.3),
}


def _model(source_vocab=20, target_vocab=20, **options):
    keras.utils.set_random_seed(1)
    model = Transformer(source_vocab, target_vocab, units=16, heads=4, **options)
    model.build()
    return model


@pytest.mark.parametrize("name", VARIANTS)
def test_step_by_step_logits_equal_teacher_forced_logits(name):
    """Generation with the key/value cache computes what training computes, position by position."""
    model = _model(**VARIANTS[name])
    whole = ops.convert_to_numpy(model((SRC, TGT_IN)))
    max_length = TGT_IN.shape[1] + 3  # a cache longer than the steps taken: the unused tail is masked
    state, source = model.encode(SRC, max_length=max_length)
    for t in range(TGT_IN.shape[1]):
        logits, state, weights = model.decode_step(TGT_IN[:, t], state, source)
        np.testing.assert_allclose(ops.convert_to_numpy(logits), whole[:, t], rtol=1e-5, atol=1e-5)
        weights = ops.convert_to_numpy(weights)  # the last block's cross-attention, heads averaged
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(weights[1, 3:], 0.0)  # padding gets no attention
        np.testing.assert_array_equal(weights[2, 1:], 0.0)
    np.testing.assert_array_equal(ops.convert_to_numpy(state["position"]), TGT_IN.shape[1])


def test_the_cache_is_written_at_the_step_and_nowhere_else():
    model = _model(num_layers=2)
    state, source = model.encode(SRC, max_length=5)
    before = [ops.convert_to_numpy(c) for c in state["keys"] + state["values"]]
    for t in range(3):
        _, state, _ = model.decode_step(TGT_IN[:, t], state, source)
        after = [ops.convert_to_numpy(c) for c in state["keys"] + state["values"]]
        for old, new in zip(before, after):
            assert new.shape == (3, 5, 16)
            np.testing.assert_array_equal(new[:, :t], old[:, :t])  # earlier steps kept, not recomputed
            assert (np.abs(new[:, t]).max(axis=-1) > 0).all()  # this step's keys/values written
            np.testing.assert_array_equal(new[:, t + 1 :], 0.0)  # later positions untouched
        before = after


def test_later_tokens_do_not_change_earlier_logits():
    """The causal mask: position t never sees positions after it."""
    model = _model(num_layers=2)
    changed = TGT_IN.copy()
    changed[:, 4:] = 17
    a = ops.convert_to_numpy(model((SRC, TGT_IN)))
    b = ops.convert_to_numpy(model((SRC, changed)))
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-5, atol=1e-6)
    assert np.abs(a[0, 4:] - b[0, 4:]).max() > 1e-3


def test_source_padding_does_not_change_the_output():
    model = _model(num_layers=2)
    src, tgt = np.array([[5, 6, 7]], "int32"), np.array([[2, 8, 9]], "int32")
    a = ops.convert_to_numpy(model((src, tgt)))
    b = ops.convert_to_numpy(model((np.pad(src, ((0, 0), (0, 5))), tgt)))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_shared_and_tied_embeddings_are_one_matrix():
    model = _model(share_embeddings=True, tie_embeddings=True)
    assert model.encoder.embedding is model.decoder.embedding
    tables = [w for w in model.weights if tuple(w.shape) == (20, 16)]
    assert len(tables) == 1
    untied = _model()  # separate source, target and output matrices
    assert untied.count_params() - model.count_params() == 2 * 20 * 16
    with pytest.raises(ValueError, match="joint vocabulary"):
        Transformer(20, 21, units=16, heads=4, share_embeddings=True)


def test_config_round_trip_and_saved_model_gives_the_same_logits(tmp_path):
    model = _model(**VARIANTS["shared-tied"])
    expected = ops.convert_to_numpy(model((SRC, TGT_IN)))
    copy = Transformer.from_config(model.get_config())
    assert copy.get_config() == model.get_config()
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert isinstance(loaded, Transformer)
    assert len(loaded.weights) == len(model.weights)
    np.testing.assert_allclose(ops.convert_to_numpy(loaded((SRC, TGT_IN))), expected, rtol=1e-6, atol=1e-6)


def test_dropout_is_active_in_training_only():
    model = _model(num_layers=1, dropout=0.5)
    a = ops.convert_to_numpy(model((SRC, TGT_IN), training=True))
    b = ops.convert_to_numpy(model((SRC, TGT_IN), training=True))
    c = ops.convert_to_numpy(model((SRC, TGT_IN)))
    d = ops.convert_to_numpy(model((SRC, TGT_IN)))
    assert np.abs(a - b).max() > 1e-3
    np.testing.assert_array_equal(c, d)


def test_encode_needs_the_search_length():
    with pytest.raises(ValueError, match="max_length"):
        _model().encode(SRC)


def test_heads_must_divide_the_model_size():
    with pytest.raises(ValueError, match="multiple of the number of heads"):
        Transformer(20, 20, units=18, heads=4).build()
