"""Optional extras: what each feature needs beyond the base install, and what to run when it is missing.

`pip install keras-seq2seq` trains, translates and evaluates (Keras, JAX, NumPy, sacreBLEU,
SentencePiece, PyYAML). The rest comes with an extra, declared in pyproject.toml under the same
name, and each feature checks for its extra before doing anything else:

    pip install 'keras-seq2seq[serve]'        # seq2seq serve: the HTTP API and its page
    pip install 'keras-seq2seq[plot]'         # attention heat maps (translate --plot-attention)
    pip install 'keras-seq2seq[tensorboard]'  # train --tensorboard
    pip install 'keras-seq2seq[torch]'        # KERAS_BACKEND=torch (torch==2.13.0, CPU)
    pip install 'keras-seq2seq[export]'       # seq2seq export: ONNX graphs, int8 (docs/export.md)
    pip install 'keras-seq2seq[zh]'           # Chinese: the jieba tokenizer, --source/--target-convert

A new extra is one line in `EXTRAS` and one in pyproject.toml (tests/test_extras.py checks that
they agree).
"""

from __future__ import annotations

import importlib.util

from keras_seq2seq.errors import Seq2SeqError

# extra -> the modules its features import directly (each installed by the extra's packages).
EXTRAS: dict[str, tuple[str, ...]] = {
    "serve": ("fastapi", "starlette", "pydantic", "uvicorn"),
    "plot": ("matplotlib",),
    "tensorboard": ("tensorboardX",),
    "torch": ("torch",),
    "export": ("onnx", "onnxruntime"),
    "runtime": ("onnxruntime",),
    "zh": ("jieba", "opencc"),
}


class MissingExtra(Seq2SeqError, ImportError):
    """A feature's optional packages are not installed; the message names the pip command."""


def missing(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here."""
    return [module for module in EXTRAS[extra] if not _installed(module)]


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a module half set up
        return False


def require(extra: str, feature: str) -> None:
    """Raise `MissingExtra` unless every module of `extra` is installed; `feature` names what
    needs it, e.g. "`seq2seq serve`"."""
    absent = missing(extra)
    if absent:
        raise MissingExtra(f"{feature} needs {', '.join(absent)}, which the base install leaves out: "
                           f"pip install 'keras-seq2seq[{extra}]'")
