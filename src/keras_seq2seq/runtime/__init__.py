"""Translate with an ONNX export, without Keras, JAX or torch: numpy, onnxruntime and the tokenisers.

`seq2seq export --model DIR --out EXPORT_DIR` writes the encoder and the one-step decoder as ONNX
graphs (see `keras_seq2seq.export`); this package runs greedy and beam search over them:

    python -m keras_seq2seq.runtime --model EXPORT_DIR --beam-size 5 < input.txt

    >>> from keras_seq2seq.runtime import load
    >>> load("exports/spa-eng").translate(["¿Dónde está la estación?"])

`seq2seq translate` and `seq2seq serve` use it when `--model` names an export directory.
Nothing here imports Keras (tests/runtime checks `sys.modules`).
"""

from keras_seq2seq.runtime.manifest import is_export
from keras_seq2seq.runtime.translator import ExportedTranslator, load

__all__ = ["ExportedTranslator", "is_export", "load"]
