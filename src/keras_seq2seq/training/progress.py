"""Training progress as plain lines: for logs, pipes and files, where a progress bar is noise.

Keras' bar redraws one line with carriage returns and colours; piped to a file or a CI log it
becomes thousands of fragments. When the output is not a terminal the `seq2seq train` command
prints these lines instead (and `--log-file` keeps them in any case): a timestamp, where training
is, the running loss and accuracy, and how long is left, with no `\\r` and no ANSI codes.

    <date> 10:04:12 epoch 2/20 step 400/917: loss 3.1234, accuracy 0.4121; epoch ETA 4m02s
    <date> 10:09:30 epoch 2/20 done in 7m12s: loss 3.0101, accuracy 0.4302, val_bleu 12.31; ETA 2h09m ...

Messages from the dev evaluation (scores every N steps, a lowered learning rate) come as lines too
(`note`, which the training loop connects).
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

import keras


def duration(seconds: float) -> str:
    """`4m02s`, `2h09m`, `12s`: short, and exact enough for an ETA."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressLines(keras.callbacks.Callback):
    """Writes a line per epoch, and one every `every_steps` batches (0: none), to each stream.

    Args:
        streams: open text streams (e.g. `sys.stderr`, a log file); each line is flushed.
        every_steps: batches between the lines within an epoch (0: epoch ends only).
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(self, streams: list[TextIO], every_steps: int = 0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.streams = list(streams)
        self.every_steps = every_steps
        self.clock = clock
        self.epoch_seconds: list[float] = []

    def line(self, message: str) -> None:
        stamped = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n"
        for stream in self.streams:
            stream.write(stamped)
            stream.flush()

    note = line  # what the dev evaluation calls with its messages

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.started = epoch, self.clock()

    def on_train_batch_end(self, batch, logs=None):
        done = batch + 1
        if not self.every_steps or done % self.every_steps:
            return
        steps = self.params.get("steps") or 0
        elapsed = self.clock() - self.started
        where = f"step {done}/{steps}" if steps else f"step {done}"
        eta = f"; epoch ETA {duration(elapsed / done * (steps - done))}" if steps else ""
        self.line(f"{self._epoch_name()} {where}: {_metrics(logs)}{eta}")

    def on_epoch_end(self, epoch, logs=None):
        spent = self.clock() - self.started
        self.epoch_seconds.append(spent)
        left = self.params.get("epochs", epoch + 1) - (epoch + 1)
        mean = sum(self.epoch_seconds) / len(self.epoch_seconds)
        more = f"{left} more epoch{'s' if left != 1 else ''}"
        eta = f"; ETA {duration(mean * left)} for {more} (less if it stops early)" if left else ""
        self.line(f"{self._epoch_name()} done in {duration(spent)}: {_metrics(logs)}{eta}")

    def _epoch_name(self) -> str:
        return f"epoch {self.epoch + 1}/{self.params.get('epochs', '?')}"


def _metrics(logs: dict | None) -> str:
    """`loss 3.1234, accuracy 0.4121, val_bleu 12.31`: the logs Keras hands over, in a fixed form."""
    parts = []
    logs = logs or {}
    # Training figures first, then the dev set's, each group as Keras gives them (loss first).
    order = sorted(logs, key=lambda key: (key.startswith("val_"), key.removeprefix("val_") != "loss"))
    for key, value in ((key, logs[key]) for key in order):
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        parts.append(f"{key} {number:.2f}" if key.endswith(("bleu", "chrf")) else f"{key} {number:.4f}")
    return ", ".join(parts) or "no metrics yet"
