"""The exporter's self-check: the float32 graphs must compute what the Keras model computes.

A few probe sentences (one of them empty) are encoded and decoded for a few steps by both, and
the states, attention weights and ranked log-probabilities compared. Different matrix-product
kernels round differently (XLA's and onnxruntime's agree to about 1e-6 here), so the tolerance
is loose enough for rounding and far too tight for a wrong gate order, a missing bias or an
attention variant computed another way.
"""

from __future__ import annotations

import numpy as np

from keras_seq2seq.errors import Seq2SeqError

TOLERANCE = 1e-3
STEPS = 3
CANDIDATES = 3


def check_graphs(model, encoder, decoder) -> None:
    """Raise `Seq2SeqError` if the ONNX graphs (`ModelProto`s) do not reproduce `model`."""
    import onnxruntime
    from keras import ops

    from keras_seq2seq.runtime.graphs import NO_SHORTLIST

    sessions = [onnxruntime.InferenceSession(g.SerializeToString(), providers=["CPUExecutionProvider"])
                for g in (encoder, decoder)]
    names = [o.name for o in sessions[0].get_outputs()]
    source_ids = probe_sources(model.source_vocab_size)
    onnx_values = dict(zip(names, sessions[0].run(None, {"source_ids": source_ids})))
    state, source = model.encode(source_ids)
    keras_state = [s for layer in state["layers"] for s in layer] + ([state["feed"]] if "feed" in state else [])
    state_names = [n for n in names if n not in ("memory", "keys", "mask")]
    _compare("encoder state", keras_state, [onnx_values[n] for n in state_names])
    tokens = np.full(len(source_ids), 2, np.int32)  # <bos>
    k = min(CANDIDATES, model.target_vocab_size)
    for step in range(STEPS):
        logits, state, weights = model.decode_step(tokens, state, source)
        feed = {"token_ids": tokens, "candidates": np.array([k], np.int64), "shortlist": NO_SHORTLIST}
        feed.update({n: onnx_values[n] for n in names})
        outputs = dict(zip([o.name for o in sessions[1].get_outputs()], sessions[1].run(None, feed)))
        logits = ops.convert_to_numpy(logits).astype(np.float64)
        log_probs = logits - _logsumexp(logits)
        chosen = outputs["token_ids_out"]
        # The ONNX ranking, scored by Keras: equal values (a near-tie may swap two tokens' order).
        _compare(f"decoder step {step + 1} log-probabilities", [np.take_along_axis(log_probs, chosen, 1)],
                 [outputs["log_probs"]])
        _compare(f"decoder step {step + 1} best log-probabilities", [-np.sort(-log_probs, axis=1)[:, :k]],
                 [outputs["log_probs"]])
        keras_state = [s for layer in state["layers"] for s in layer] + ([state["feed"]] if "feed" in state else [])
        _compare(f"decoder step {step + 1} state", keras_state, [outputs[f"new_{n}"] for n in state_names])
        if weights is not None:
            _compare(f"decoder step {step + 1} attention", [weights], [outputs["attention"]])
        onnx_values.update({n: outputs[f"new_{n}"] for n in state_names})
        tokens = chosen[:, 0].astype(np.int32)


def _compare(what: str, expected, actual) -> None:
    from keras import ops

    for e, a in zip(expected, actual):
        e = np.asarray(ops.convert_to_numpy(e), np.float64)
        gap = float(np.max(np.abs(e - np.asarray(a, np.float64)))) if e.size else 0.0
        if not gap <= TOLERANCE:
            raise Seq2SeqError(f"cannot export this model: the ONNX graphs do not reproduce its {what} "
                               f"(largest difference {gap:.3g}); please report it")


def _logsumexp(x: np.ndarray) -> np.ndarray:
    top = x.max(axis=-1, keepdims=True)
    return top + np.log(np.exp(x - top).sum(axis=-1, keepdims=True))


def probe_sources(vocab_size: int, rows: int = 4, length: int = 7, seed: int = 0) -> np.ndarray:
    """A few padded source rows (ids >= 4, the last row empty) for the export check."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(4, max(vocab_size, 5), size=(rows, length)).astype(np.int32)
    for row in range(rows):
        ids[row, length - row * 2 :] = 0
    ids[-1] = 0
    return ids
