"""Plain progress lines: a line per epoch or every N steps, an ETA, no carriage returns or colours."""

import io
import re

from keras_seq2seq.training.progress import ProgressLines, duration


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_durations_read_short():
    assert [duration(s) for s in (4.4, 61, 3599, 7740)] == ["4s", "1m01s", "59m59s", "2h09m"]


def test_lines_every_n_steps_and_per_epoch_with_etas():
    out, clock = io.StringIO(), Clock()
    lines = ProgressLines([out], every_steps=2, clock=clock)
    lines.set_params({"epochs": 3, "steps": 5})
    for epoch in range(2):
        lines.on_epoch_begin(epoch)
        for batch in range(5):
            clock.now += 10
            lines.on_train_batch_end(batch, {"loss": 2.5 - epoch, "accuracy": 0.25})
        lines.on_epoch_end(epoch, {"loss": 2.0, "accuracy": 0.3, "val_bleu": 12.345})
    lines.note("step 9: dev BLEU 12.30 chrF 40.00")
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    rows = [line.split(" ", 2)[2] for line in text.splitlines()]  # without the date and time
    assert rows[:3] == ["epoch 1/3 step 2/5: loss 2.5000, accuracy 0.2500; epoch ETA 30s",
                        "epoch 1/3 step 4/5: loss 2.5000, accuracy 0.2500; epoch ETA 10s",
                        "epoch 1/3 done in 50s: loss 2.0000, accuracy 0.3000, val_bleu 12.35; "
                        "ETA 1m40s for 2 more epochs (less if it stops early)"]
    assert rows[5] == "epoch 2/3 done in 50s: loss 2.0000, accuracy 0.3000, val_bleu 12.35; " \
                      "ETA 50s for 1 more epoch (less if it stops early)"
    assert rows[6] == "step 9: dev BLEU 12.30 chrF 40.00"
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", line) for line in text.splitlines())


def test_one_line_per_epoch_by_default_and_every_stream_gets_it():
    first, second, clock = io.StringIO(), io.StringIO(), Clock()
    lines = ProgressLines([first, second], clock=clock)
    lines.set_params({"epochs": 1, "steps": 100})
    lines.on_epoch_begin(0)
    for batch in range(100):
        lines.on_train_batch_end(batch, {"loss": 1.0})
    lines.on_epoch_end(0, {"loss": 1.0})
    assert first.getvalue() == second.getvalue() and len(first.getvalue().splitlines()) == 1
    assert "ETA" not in first.getvalue()  # the last epoch: nothing left
