"""Dropout whose masks a checkpoint can replay, on every backend.

Keras draws a `Dropout` layer's masks from the layer's `SeedGenerator`, whose state is a
variable: saved with the model's other variables, put back by a resumed run, so the masks after
a resume are the ones an uninterrupted run would have drawn. Except on torch when the layer has
no seed: Keras then takes a fast path, `torch.nn.functional.dropout`, which draws from torch's
global generator. No Keras variable holds that generator's position; a resumed run restarts it
from `keras.utils.set_random_seed` and drops other units than the run it continues.

So our layers give every `Dropout` a seed. It is drawn the way Keras seeds an unseeded layer
(a number in [1, 1e9] from Python's `random`, which `keras.utils.set_random_seed` seeds), so a
JAX model draws the very masks it drew before, and a torch model's masks follow its seed state.
"""

from __future__ import annotations

import random

import keras

_SEED_RANGE = (1, 10**9)  # what Keras draws an unseeded SeedGenerator's seed from


def seeded_dropout(rate: float, **kwargs) -> keras.layers.Dropout:
    """A `keras.layers.Dropout(rate, **kwargs)` with a seed drawn from Python's `random`.

    With `rate == 0` Keras makes no seed generator, and nothing is drawn (as before).

    Examples:
    >>> layer = seeded_dropout(0.1, name="dropout")
    >>> layer.seed is not None
    True
    """
    seed = random.randint(*_SEED_RANGE) if rate > 0 else None
    return keras.layers.Dropout(rate, seed=seed, **kwargs)
