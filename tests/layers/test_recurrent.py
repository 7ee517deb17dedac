import numpy as np
import pytest
from keras import ops

from keras_seq2seq.layers.recurrent import Recurrent


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_shapes_and_state_size(cell):
    layer = Recurrent(16, cell)
    outputs, state = layer(np.random.rand(3, 5, 4).astype("float32"))
    assert tuple(outputs.shape) == (3, 5, 16)
    assert len(state) == (2 if cell == "lstm" else 1)
    assert all(tuple(s.shape) == (3, 16) for s in state)
    # Without a mask the final h is the last output.
    np.testing.assert_allclose(ops.convert_to_numpy(state[0]), ops.convert_to_numpy(outputs[:, -1]), rtol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padding_does_not_change_the_final_state(cell):
    layer = Recurrent(8, cell)
    x = np.random.rand(1, 4, 3).astype("float32")
    _, short = layer(x)
    padded = np.concatenate([x, np.random.rand(1, 3, 3).astype("float32")], axis=1)
    mask = np.array([[1, 1, 1, 1, 0, 0, 0]], bool)
    outputs, masked = layer(padded, mask=mask)
    for a, b in zip(short, masked):
        np.testing.assert_allclose(ops.convert_to_numpy(a), ops.convert_to_numpy(b), rtol=1e-5, atol=1e-6)
    assert np.all(ops.convert_to_numpy(outputs)[:, 4:] == 0)


def test_step_matches_the_sequence_pass():
    layer = Recurrent(6, "lstm")
    x = np.random.rand(2, 3, 5).astype("float32")
    outputs, _ = layer(x)
    state = layer.zero_state(2)
    for t in range(3):
        h, state = layer.step(layer.project(x[:, t]), state)
        np.testing.assert_allclose(ops.convert_to_numpy(h), ops.convert_to_numpy(outputs[:, t]), rtol=1e-5, atol=1e-6)


def test_reverse_reads_from_the_end():
    layer = Recurrent(4, "gru")
    x = np.random.rand(1, 5, 2).astype("float32")
    _, backward = layer(x, reverse=True)
    _, forward_of_flipped = layer(x[:, ::-1].copy())
    np.testing.assert_allclose(ops.convert_to_numpy(backward[0]), ops.convert_to_numpy(forward_of_flipped[0]), rtol=1e-5)


def test_lstm_forget_bias_starts_at_one():
    layer = Recurrent(3, "lstm")
    layer.build((None, None, 2))
    bias = ops.convert_to_numpy(layer.bias)
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell must be one of"):
        Recurrent(4, "rnn")
