"""A compile cache on disk for the `seq2seq` command: a later start reads compiled programs back.

Under JAX, the first `seq2seq translate` on a model spends seconds compiling its search, and every
new process used to pay that again. JAX can keep
compiled programs in a directory, keyed by the program, the JAX version and the device, and reads
the directory's location from the environment when it is first imported. So the command line sets
it before anything imports JAX:

- the default is `$XDG_CACHE_HOME/keras-seq2seq/xla` (`~/.cache/keras-seq2seq/xla`);
- a `JAX_COMPILATION_CACHE_DIR` the user set wins;
- `SEQ2SEQ_COMPILE_CACHE=off` turns the cache off.

Only programs that took JAX at least a second to compile are stored (JAX's own threshold), so the
directory holds the decoding loops and training steps, not every small helper. The directory is
capped at `MAX_SIZE` bytes (512 MiB; about ten thousand decoding programs of a small model): past
it, JAX deletes the programs read least recently. `JAX_COMPILATION_CACHE_MAX_SIZE` (bytes; -1: no
cap) overrides the cap. The Python API leaves the environment alone: set
`JAX_COMPILATION_CACHE_DIR` (and the cap) yourself to get the same.

JAX keeps, beside each program `KEY-cache`, the time it was last read in `KEY-atime`, and only a
capped process writes those. A capped process that finds a program without one (written by a
process without a cap: an earlier version, or the Python API) cannot evict, and then stores
nothing new. So `enable` gives such programs their file's modification time first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

OFF = ("0", "off", "no", "false")
MAX_SIZE = 512 * 1024 * 1024  # bytes the cache directory may hold; the least recently read go first
_PROGRAM, _READ_AT = "-cache", "-atime"  # JAX's names: KEY-cache holds a program, KEY-atime its last read


def default_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "keras-seq2seq" / "xla"


def enable() -> Path | None:
    """Point JAX at the cache directory, unless turned off; returns the directory in use, if any.

    Has no effect when JAX is already imported (as in a program that calls `cli.main` itself).
    """
    if os.environ.get("SEQ2SEQ_COMPILE_CACHE", "").strip().lower() in OFF:
        return None
    if "jax" in sys.modules:
        return None
    directory = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    if not directory:
        directory = str(default_directory())
        os.environ["JAX_COMPILATION_CACHE_DIR"] = directory
    # JAX reads the cap (and locks the directory with `filelock` while it evicts) from here.
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(MAX_SIZE))
    if os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"].strip() != "-1":
        date_unread_programs(Path(directory))
    return Path(directory)


def date_unread_programs(directory: Path) -> None:
    """Write the missing `KEY-atime` of each `KEY-cache` in `directory`: its modification time,
    in nanoseconds (8 bytes, little-endian, as JAX writes it)."""
    try:
        programs = list(directory.glob(f"*{_PROGRAM}"))
    except OSError:
        return
    for program in programs:
        atime = program.with_name(program.name.removesuffix(_PROGRAM) + _READ_AT)
        try:
            if not atime.exists():
                atime.write_bytes(program.stat().st_mtime_ns.to_bytes(8, "little"))
        except OSError:  # gone meanwhile (evicted by another process), or a read-only cache
            pass
