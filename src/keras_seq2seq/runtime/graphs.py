"""The exported encoder and decoder step, run by onnxruntime.

`Graphs.encode` and `Graphs.step` are the runtime's `Seq2Seq.encode` and `Seq2Seq.decode_step`:
numpy arrays in, numpy arrays out. The state and the source are lists of arrays whose first axis
is the row, so the searches can drop and reorder rows with one `np.take` per array, whatever the
model's cell, depth or attention.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from keras_seq2seq.errors import ModelFileError

NO_SHORTLIST = np.zeros(0, np.int32)


class Graphs:
    """The two inference sessions of an export directory.

    Args:
        directory: the export directory.
        manifest: its checked manifest (`manifest.read_manifest`).
        threads: onnxruntime's intra-op threads (0: its default, one per physical core).
    """

    def __init__(self, directory: Path, manifest: dict, threads: int = 0):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        # Threads that spin while waiting for work take a core from other work on a shared machine,
        # and decoder steps got slower with spinning on (docs/export.md).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        sessions = {}
        for name in ("encoder", "decoder"):
            path = Path(directory) / manifest["graphs"][name]["file"]
            try:
                sessions[name] = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as error:  # noqa: BLE001  onnxruntime raises its own exception types
                first = (str(error).strip().splitlines() or [type(error).__name__])[0]
                raise ModelFileError(f"{path}: onnxruntime cannot load it ({first[:200]})") from None
        self.encoder, self.decoder = sessions["encoder"], sessions["decoder"]
        self.state_names: list[str] = list(manifest["state"])
        self.source_names: list[str] = list(manifest["source"])
        self.has_attention = bool(self.source_names)
        self._step_outputs = [f"new_{name}" for name in self.state_names] + ["log_probs", "token_ids_out"]
        if self.has_attention:
            self._step_outputs.append("attention")

    def encode(self, source_ids: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """`(state, source)` for `batch x source_length` int32 ids (0-padded)."""
        outputs = self.encoder.run(self.state_names + self.source_names, {"source_ids": source_ids})
        return outputs[: len(self.state_names)], outputs[len(self.state_names):]

    def step(self, tokens: np.ndarray, state: list[np.ndarray], source: list[np.ndarray],
             candidates: int, shortlist: np.ndarray | None = None):
        """One decoder step for `rows` tokens.

        Returns `(log_probs rows x candidates, ids rows x candidates, new state, attention)`:
        each row's best tokens, best first (positions in `shortlist` when one is given), and
        the attention weights (`rows x source_length`, None without attention).
        """
        feed = {"token_ids": tokens.astype(np.int32, copy=False),
                "candidates": np.array([candidates], np.int64),
                "shortlist": NO_SHORTLIST if shortlist is None else shortlist}
        feed.update(zip(self.state_names, state))
        feed.update(zip(self.source_names, source))
        outputs = self.decoder.run(self._step_outputs, feed)
        count = len(self.state_names)
        log_probs, ids = outputs[count], outputs[count + 1]
        attention = outputs[count + 2] if self.has_attention else None
        return log_probs, ids, outputs[:count], attention
