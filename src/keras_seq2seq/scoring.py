"""How likely a model finds given outputs: teacher-forced log-probabilities, and perplexity.

Search asks "what should the output be?"; scoring asks "how probable is this output?". Feeding
the reference reply through the decoder (teacher forcing, as in training) gives the
log-probability of each of its tokens. Summed per pair they rank candidates (a reverse model's
log p(context | reply) in `reranking.py`); pooled over a test set they give the perplexity
dialogue papers report, `exp(-total log-probability / total tokens)`, `<eos>` counted as a token
as in training.

Like `search/generator.py`, the computation is a tiny Keras model holding the trained one, so
`predict_on_batch` compiles it under any backend. Every (rows, source length, target length)
is a program of its own, and each XLA program on a CPU holds memory mappings that live as
long as the process: MMI reranking of a test set once compiled so many (the
reverse model's targets are whole turns, of any length) that the process hit Linux's limit of
65,530 mappings and died. So a call pads all its batches to one row count and one source
length, and target lengths climb a geometric ladder (`scoring_length`): a dozen programs
cover a call's targets of any length, at the price of some padding.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
import numpy as np
from keras import ops

from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.data.batching import pad
from keras_seq2seq.shapes import TracedShapes, decode_rows
from keras_seq2seq.text.vocabulary import BOS_ID


def scoring_length(length: int, step: int) -> int:
    """`length` rounded up to the ladder `step` x 1, 2, 3, 4, 6, 8, 12, 16, 24, ...: past twice
    `step`, never more than half again as long, and about two rungs per doubling, so lengths of
    any size compile few programs.

    >>> [scoring_length(n, 4) for n in (1, 5, 9, 13, 17, 25, 33, 49, 65, 97)]
    [4, 8, 12, 16, 24, 32, 48, 64, 96, 128]
    """
    multiple = 1
    while step * multiple < length:
        # 1 -> 2 -> 3 -> 4 -> 6 -> 8 -> ...: from a power of two up by half, else up to the next one.
        power_of_two = multiple & (multiple - 1) == 0
        multiple = multiple + 1 if multiple < 2 else (multiple * 3 // 2 if power_of_two else multiple * 4 // 3)
    return step * multiple


class TargetScorer(TracedShapes, keras.Model):
    """Summed log-probabilities of given targets under a `Seq2Seq`; never saved.

    Call arguments:
        inputs: `(source_ids, target_in, target_out)`, int `batch x len`, 0-padded;
            `target_in` is `target_out` shifted right behind `<bos>`.

    Returns `batch` floats: each row's summed log p(target_out token), padding excluded.
    """

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.built = True  # the weights are the trained model's
        self.model = model

    def call(self, inputs):
        source_ids, target_in, target_out = inputs
        logits = ops.cast(self.model((source_ids, target_in), training=False), "float32")  # batch x len x vocab
        picked = ops.take_along_axis(logits, ops.expand_dims(target_out, -1), axis=-1)[..., 0]  # batch x len
        log_probs = picked - ops.logsumexp(logits, axis=-1)  # batch x len
        mask = ops.cast(ops.not_equal(target_out, 0), "float32")
        return ops.sum(log_probs * mask, axis=1)  # batch


class Scoring:
    """Scores (source, target) pairs with `bundle`'s model, one compiled scorer reused."""

    def __init__(self, bundle: ModelBundle, batch_size: int | None = None):
        self.bundle = bundle
        self.batch_size = batch_size or bundle.settings.train.batch_size
        self._scorer: TargetScorer | None = None

    def reset(self) -> None:
        """Forget the compiled scorer (the model has changed)."""
        self._scorer = None

    def log_probs(self, pairs: Sequence[tuple[str, str]], batch_size: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """`(log_probs, tokens)`: for every pair, log p(target | source) summed over the
        target's tokens and `<eos>`, and how many tokens that is (`<eos>` included)."""
        if self._scorer is None:
            self._scorer = TargetScorer(self.bundle.model)
        batch_size = batch_size or self.batch_size
        step = self.bundle.settings.train.length_step
        encoded = [self.bundle.encode_pair(source, target) for source, target in pairs]
        scores = np.zeros(len(encoded), np.float64)
        tokens = np.array([len(target) for _, target in encoded], np.int64)
        # Target length first: the decoder and output layer are the larger cost.
        order = sorted(range(len(encoded)), key=lambda i: (len(encoded[i][1]), len(encoded[i][0])))
        # One row count and one source length for the whole call: only the target length varies.
        count = decode_rows(len(order), batch_size)
        source_length = scoring_length(max((len(source) for source, _ in encoded), default=1), step)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            source = pad([encoded[i][0] for i in rows], source_length, count)
            target_out = pad([encoded[i][1] for i in rows],
                             scoring_length(max(len(encoded[i][1]) for i in rows), step), count)
            target_in = np.zeros_like(target_out)
            target_in[:, 0] = BOS_ID
            target_in[:, 1:] = target_out[:, :-1]
            target_in[len(rows) :] = 0  # filler rows stay empty
            found = np.asarray(self._scorer.predict_on_batch((source, target_in, target_out)))
            scores[rows] = found[: len(rows)]
        return scores, tokens


def perplexity(log_probs: Sequence[float], tokens: Sequence[int]) -> float:
    """`exp(-sum(log_probs) / sum(tokens))`: the per-token perplexity of pooled scores.

    >>> round(perplexity([math.log(0.5) * 2, math.log(0.25)], [2, 1]), 3)  # tokens at 1/2, 1/2, 1/4
    2.52
    """
    total = float(np.sum(tokens))
    return math.exp(-float(np.sum(log_probs)) / total) if total else float("nan")
