"""The inverse-square-root schedule: its curve, and the callback that applies it every step."""

import keras
import numpy as np
import pytest

from keras_seq2seq.training.schedules import InverseSqrtSchedule, inverse_sqrt


def test_the_rate_rises_linearly_peaks_at_warmup_then_falls_as_one_over_sqrt():
    peak, warmup = 1e-3, 100
    rates = [inverse_sqrt(step, peak, warmup) for step in range(1000)]
    assert rates[0] == pytest.approx(peak / warmup)
    assert rates[49] == pytest.approx(peak / 2)
    assert max(rates) == pytest.approx(peak) and int(np.argmax(rates)) == warmup - 1
    assert rates[4 * warmup - 1] == pytest.approx(peak / 2)  # four times the steps, half the rate
    assert all(a > b for a, b in zip(rates[warmup:], rates[warmup + 1:]))


class _Model:
    def __init__(self, step: int):
        self.optimizer = keras.optimizers.Adam(1.0)
        self.optimizer.build([keras.Variable(np.zeros(2, "float32"))])
        self.optimizer.iterations.assign(step)


@pytest.mark.parametrize("start", [0, 250])
def test_the_callback_sets_each_step_rate_from_the_optimizer_count(start):
    """A resumed run (the optimizer's count at 250) continues the curve where it was."""
    model = _Model(start)
    schedule = InverseSqrtSchedule(2e-3, warmup=100)
    schedule.set_model(model)
    schedule.on_train_begin()
    for step in range(start, start + 3):
        schedule.on_train_batch_begin(0)
        rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        assert rate == pytest.approx(inverse_sqrt(step, 2e-3, 100), rel=1e-6)
