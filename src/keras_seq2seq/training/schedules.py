"""The inverse-square-root learning-rate schedule with linear warm-up (Vaswani et al., 2017).

Transformers trained with Adam at a fixed rate either learn slowly (a low rate) or diverge in
their first updates (a high one): attention and layer normalisation start out badly scaled. The
paper's schedule raises the rate linearly for `warmup` steps, then lowers it as `1/sqrt(step)`:

    rate(step) = peak * min(step / warmup, sqrt(warmup / step))       (step counted from 1)

The paper writes the peak as `d_model ** -0.5 * warmup ** -0.5` (about 7e-4 for d_model 512 and
4,000 warm-up steps; OpenNMT-py's "noam" decay with learning_rate 2 is that times 2); here it is
given directly, as `learning_rate`.

It runs as a callback that sets the optimizer's rate before every batch from the optimizer's own
update count, so a resumed run continues the schedule exactly where the killed one was.
"""

from __future__ import annotations

import math

import keras


def inverse_sqrt(step: int, peak: float, warmup: int) -> float:
    """The rate for the update numbered `step` (0-based: the first update is step 0).

    >>> [round(inverse_sqrt(s, 1e-3, 4) * 1e4, 2) for s in (0, 3, 15)]
    [2.5, 10.0, 5.0]
    """
    n = step + 1
    return peak * min(n / warmup, math.sqrt(warmup / n))


class InverseSqrtSchedule(keras.callbacks.Callback):
    """Sets the learning rate to `inverse_sqrt(step, peak, warmup)` before every training batch."""

    def __init__(self, peak: float, warmup: int):
        super().__init__()
        self.peak = peak
        self.warmup = warmup
        self._step = 0

    def on_train_begin(self, logs=None):
        # The optimizer's update count: it carries on across a resume (saved with the model).
        self._step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = inverse_sqrt(self._step, self.peak, self.warmup)
        self._step += 1
