"""One training per output directory: a lock file that a second run into the same `--out` finds.

Two runs writing to one directory would overwrite each other's best model and delete each
other's scratch checkpoints. So a run takes an exclusive lock on `OUT/.training.lock` before it
looks for a checkpoint to resume, and keeps it until the finished model is written. The lock is
the operating system's (`flock`): it goes with the process, so a killed run leaves nothing that
blocks the next one. The file holds the owner's process id, for the message the second run
prints. (On systems without `fcntl`, i.e. Windows, runs are not locked.)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from keras_seq2seq.errors import Seq2SeqError

LOCK_FILE = ".training.lock"

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

_held: dict[Path, int] = {}  # directories this process holds -> nesting depth (train() calls fit())


class TrainingInProgress(Seq2SeqError):
    """Another run is training into the same directory."""


@contextlib.contextmanager
def training_lock(out_dir: Path) -> Iterator[None]:
    """Hold `out_dir`'s training lock for the block; `TrainingInProgress` if another process has it."""
    given, out_dir = Path(out_dir), Path(out_dir).resolve()
    if out_dir in _held or fcntl is None:
        _held[out_dir] = _held.get(out_dir, 0) + 1
        try:
            yield
        finally:
            _release(out_dir, None)
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / LOCK_FILE, "a+", encoding="utf-8")
    except OSError as error:  # (the words of checkpoint.check_writable, which would say the same)
        raise Seq2SeqError(f"{given}: cannot write the model there ({error.strerror or error})") from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise TrainingInProgress(
            f"{given}: another training (process {owner}) is writing there now; wait for it to end, "
            f"or train into another --out") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    _held[out_dir] = 1
    try:
        yield
    finally:
        _release(out_dir, handle)


def _release(out_dir: Path, handle) -> None:
    _held[out_dir] -= 1
    if _held[out_dir]:
        return
    del _held[out_dir]
    if handle is not None:
        # Removed while still held: a run that opens the name after this makes a new file and
        # locks that; one that opened it before finds it locked until the close just below.
        (out_dir / LOCK_FILE).unlink(missing_ok=True)
        handle.close()
