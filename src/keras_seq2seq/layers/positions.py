"""Token embeddings with positions added: how a Transformer knows word order.

Self-attention treats its input as a set, so each token's embedding gets a vector that depends
only on its position. Two kinds, as in Vaswani et al. (2017):

- `sinusoidal`: fixed sines and cosines of geometrically spaced wavelengths, computed on the fly
  from the positions (no weights, no length limit);
- `learnt`: one trained vector per position up to `max_positions` (later positions reuse the last).

The token embedding is multiplied by `sqrt(dim)` first, so that with embeddings drawn at scale
`dim ** -0.5` (the right scale for a tied output layer) tokens and positions have comparable size.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from keras_seq2seq.config import POSITION_KINDS


def sinusoidal_positions(positions, dim: int):
    """`positions` (int tensor, any shape) -> `positions.shape + (dim,)` float32 encodings.

    The first half of the last axis holds `sin(p / 10000^(i / (dim/2)))`, the second half the
    cosines of the same angles (the halves are not interleaved; only the set of features matters).
    """
    half = dim // 2
    # Inverse wavelengths from 1 down to 1/10000, as constants: no table of positions is kept.
    inverse = ops.exp(ops.arange(half, dtype="float32") * (-math.log(10000.0) / max(half - 1, 1)))
    angles = ops.expand_dims(ops.cast(positions, "float32"), -1) * inverse
    encoded = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)
    if dim % 2:  # an odd size: one zero feature at the end
        encoded = ops.pad(encoded, [(0, 0)] * (len(encoded.shape) - 1) + [(0, 1)])
    return encoded


@keras.saving.register_keras_serializable(package="keras_seq2seq")
class Positions(keras.layers.Layer):
    """Adds position encodings to already scaled token embeddings.

    Args:
        dim: the embedding size.
        kind: `"sinusoidal"` or `"learnt"`.
        max_positions: learnt positions only: how many vectors are trained.

    Call arguments:
        embedded: `batch x len x dim` (positions 0..len-1), or `batch x dim` with `positions`.
        positions: `batch` int positions, for one decoding step.

    Returns `embedded` plus the encodings, same shape and dtype.
    """

    def __init__(self, dim: int, kind: str = "sinusoidal", max_positions: int = 1024, **kwargs):
        super().__init__(**kwargs)
        if kind not in POSITION_KINDS:
            raise ValueError(f"positions must be one of {POSITION_KINDS}, got {kind!r}")
        self.dim = dim
        self.kind = kind
        self.max_positions = max_positions

    def build(self, input_shape=None):
        if self.kind == "learnt":
            self.table = self.add_weight(name="table", shape=(self.max_positions, self.dim),
                                         initializer=keras.initializers.RandomNormal(stddev=self.dim ** -0.5))
        self.built = True

    def encodings(self, positions):
        """`positions.shape + (dim,)` encodings in the layer's compute dtype."""
        if self.kind == "sinusoidal":
            encoded = sinusoidal_positions(positions, self.dim)
        else:
            encoded = ops.take(self.table, ops.minimum(positions, self.max_positions - 1), axis=0)
        return ops.cast(encoded, self.compute_dtype)

    def call(self, embedded, positions=None):
        if positions is None:  # a whole sequence: the same encodings for every row
            positions = ops.arange(ops.shape(embedded)[1], dtype="int32")
            return embedded + ops.expand_dims(self.encodings(positions), 0)
        return embedded + self.encodings(positions)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "kind": self.kind, "max_positions": self.max_positions}
