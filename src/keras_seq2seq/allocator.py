"""Keep freed memory in the process, so that each training step does not fault its buffers in anew.

XLA on CPU allocates every step's buffers (logits, gradients, optimizer slots) with `malloc` and
frees them when the step ends. glibc hands large blocks back to the kernel on `free` (blocks
over its mmap threshold, and the tops of the per-thread arenas), so the next step touches fresh
pages, zeroed by the kernel, tens of thousands of page faults per step of a `tatoeba-small`
model (docs/performance.md). With one arena, no mmap for large blocks, and no trimming, the
same step faults no page at all.

The price is that the process keeps its peak heap until it exits, which is what a training run
or a server does anyway. Set `SEQ2SEQ_MALLOC=system` to keep glibc's defaults.

The options must be set before XLA's worker threads first allocate (each thread would otherwise
have made its own arena), so `keras_seq2seq/__init__.py` calls `keep_freed_memory()` before
anything imports Keras. Other C libraries (musl, macOS, Windows) are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

# mallopt(3) parameter numbers, from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8

_OPT_OUT = "SEQ2SEQ_MALLOC"


def keep_freed_memory() -> bool:
    """Tune glibc's malloc as described above; True when it was done."""
    if os.environ.get(_OPT_OUT, "").lower() == "system" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    settings = (
        (_M_ARENA_MAX, 1),  # every thread allocates from the main heap...
        (_M_MMAP_MAX, 0),  # ...large blocks included...
        (_M_TRIM_THRESHOLD, 2**31 - 1),  # ...and freed memory stays for the next step
        (_M_TOP_PAD, 1 << 29),  # grow the heap in large steps
    )
    return all(mallopt(option, value) == 1 for option, value in settings)
