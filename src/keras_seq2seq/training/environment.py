"""What a training record says of the machine it ran on (for the model card): the processor, its
cores, the devices Keras trained on, the operating system and the Python version."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import keras


def hardware() -> dict:
    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "machine": platform.machine(), "devices": _devices(),
            "backend": keras.backend.backend(), "platform": platform.platform(terse=True),
            "python": platform.python_version()}


def _devices() -> list[str]:
    """The devices Keras sees (`cpu:0`, `gpu:0`, ...); none where its distribution API has no
    implementation (the torch backend)."""
    try:
        return [str(device) for device in keras.distribution.list_devices()]
    except (AttributeError, NotImplementedError):
        return []


def _cpu_name() -> str:
    """The processor's model name (`/proc/cpuinfo` on Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
