"""One recurrent layer (LSTM or GRU) that exposes its single step.

Keras' own `LSTM` layer hides its cell loop; we need two things it does not give us:
the input-to-hidden products for *all* time steps in one matmul before the loop (the loop then
only does the recurrent product), and a `step()` that the compiled generation loop can call with
the very same weights that training updated.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_seq2seq.config import CELLS


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Recurrent(keras.layers.Layer):
    """An LSTM or GRU layer over a padded batch.

    Args:
        units: size of the hidden state.
        cell: `"lstm"` (state is `(h, c)`) or `"gru"` (state is `(h,)`).

    Call arguments:
        inputs: `batch x time x features`.
        initial_state: tuple of `batch x units` tensors, or None for zeros.
        mask: `batch x time` boolean; padded steps keep the previous state and output zeros.
        reverse: read the sequence from the end (for the backward half of a bidirectional encoder).

    Returns `(outputs, final_state)`: `batch x time x units` and the state tuple.
    """

    def __init__(self, units: int, cell: str = "lstm", **kwargs):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
        self.units = units
        self.cell = cell
        self.gates = 4 if cell == "lstm" else 3
        self.supports_masking = True  # the mask is consumed in `call`, not propagated

    def build(self, input_shape):
        features = input_shape[-1]
        width = self.gates * self.units
        self.kernel = self.add_weight(
            name="kernel", shape=(features, width), initializer="glorot_uniform"
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, width), initializer="orthogonal"
        )
        # LSTM: forget-gate bias starts at 1 so early training does not forget everything.
        bias_init = _ForgetBiasOne(self.units) if self.cell == "lstm" else "zeros"
        self.bias = self.add_weight(name="bias", shape=(width,), initializer=bias_init)
        if self.cell == "gru":
            # GRU applies the reset gate after the recurrent product, which needs its own bias.
            self.recurrent_bias = self.add_weight(
                name="recurrent_bias", shape=(width,), initializer="zeros"
            )
        self.built = True

    @property
    def state_size(self) -> int:
        return 2 if self.cell == "lstm" else 1

    def zero_state(self, batch_size) -> tuple:
        zeros = ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
        return tuple(zeros for _ in range(self.state_size))

    def project(self, inputs, rows: slice | None = None, bias: bool = True):
        """Input-to-hidden products for every step at once: `... x gates*units`.

        `rows` picks part of the input features (the kernel's rows), for a layer whose input is
        a concatenation projected piece by piece; `bias=False` leaves the bias to another piece.
        """
        kernel = self.kernel if rows is None else self.kernel[rows]
        projected = matmul_2d(inputs, ops.cast(kernel, inputs.dtype))
        return ops.add(projected, ops.cast(self.bias, projected.dtype)) if bias else projected

    def step(self, projected, state: tuple) -> tuple:
        """One time step from already projected inputs (`batch x gates*units`).

        Returns `(h, new_state)`.
        """
        h = state[0]
        recurrent = ops.matmul(h, ops.cast(self.recurrent_kernel, h.dtype))
        if self.cell == "lstm":
            c = state[1]
            z = projected + recurrent
            i, f, g, o = ops.split(z, 4, axis=-1)
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            h = ops.sigmoid(o) * ops.tanh(c)
            return h, (h, c)
        recurrent = recurrent + ops.cast(self.recurrent_bias, recurrent.dtype)
        x_r, x_z, x_n = ops.split(projected, 3, axis=-1)
        h_r, h_z, h_n = ops.split(recurrent, 3, axis=-1)
        r = ops.sigmoid(x_r + h_r)
        z = ops.sigmoid(x_z + h_z)
        n = ops.tanh(x_n + r * h_n)
        h = (1.0 - z) * n + z * h
        return h, (h,)

    def call(self, inputs, initial_state=None, mask=None, reverse=False):
        if initial_state is None:
            initial_state = self.zero_state(ops.shape(inputs)[0])
        initial_state = tuple(initial_state)
        projected = ops.transpose(self.project(inputs), (1, 0, 2))  # time x batch x gates*units
        if mask is None:

            def scan_step(state, x_t):
                h, new_state = self.step(x_t, state)
                return new_state, h

            final_state, outputs = ops.scan(scan_step, initial_state, projected, reverse=reverse)
        else:
            step_mask = ops.expand_dims(ops.transpose(ops.cast(mask, "bool"), (1, 0)), -1)

            def scan_step(state, xs):
                x_t, m_t = xs
                h, new_state = self.step(x_t, state)
                # Padded steps leave the state untouched, so the final state is the last real one.
                kept = tuple(ops.where(m_t, new, old) for new, old in zip(new_state, state))
                return kept, ops.where(m_t, h, ops.zeros_like(h))

            final_state, outputs = ops.scan(
                scan_step, initial_state, (projected, step_mask), reverse=reverse
            )
        return ops.transpose(outputs, (1, 0, 2)), final_state

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "cell": self.cell}


def matmul_2d(inputs, kernel):
    """`inputs @ kernel` for inputs of any rank, done as one 2-D product.

    XLA on CPU runs a `batch x time x features` product as a batched dot that is much slower
    than the same work flattened (docs/performance.md), so leading axes are folded into one
    before the product.
    """
    if len(inputs.shape) == 2:
        return ops.matmul(inputs, kernel)
    leading = ops.shape(inputs)[:-1]
    flat = ops.matmul(ops.reshape(inputs, (-1, ops.shape(inputs)[-1])), kernel)
    return ops.reshape(flat, (*leading, ops.shape(kernel)[-1]))


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class _ForgetBiasOne(keras.initializers.Initializer):
    """Zeros, except ones on the LSTM forget-gate slice (gate order i, f, g, o)."""

    def __init__(self, units: int):
        self.units = units

    def __call__(self, shape, dtype=None):
        u = self.units
        return ops.concatenate(
            [ops.zeros((u,), dtype), ops.ones((u,), dtype), ops.zeros((shape[0] - 2 * u,), dtype)]
        )

    def get_config(self):
        return {"units": self.units}
