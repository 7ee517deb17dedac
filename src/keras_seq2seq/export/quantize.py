"""int8 graphs: onnxruntime's dynamic quantisation of the matrix products.

Dynamic quantisation stores each weight matrix of a `MatMul` (and of the encoder's `LSTM`
operators) as int8 with one scale, and quantises the activations on the fly, row block by row
block, at run time: no calibration data is needed. onnxruntime then multiplies in integers (its
kernels use the CPU's int8 dot-product instructions), which is where the speed comes from. The
output layer sits in a branch of an `If` (the shortlist switch, see `decoder.py`), so subgraphs
are quantised too. Embedding lookups, attention scores and the softmax stay float32.
"""

from __future__ import annotations

from pathlib import Path

QUANTISED_OPS = ["MatMul", "LSTM"]  # the matrix products; Gather (embeddings) stays float32


def quantize_int8(source: Path, target: Path) -> None:
    """Write the int8 version of the float32 graph `source` to `target`."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # its advice to "pre-process" targets image models
    try:
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, op_types_to_quantize=QUANTISED_OPS,
                         extra_options={"EnableSubgraph": True})
    finally:
        logging.getLogger().setLevel(quiet)
