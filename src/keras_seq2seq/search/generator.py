"""A compiled generator around a trained `Seq2Seq`.

Keras compiles `predict_on_batch` (a jitted XLA program under JAX, a `tf.function` under
TensorFlow, eager under torch), passing the model's current weights in as arguments. Wrapping the
search in a tiny model that *holds* the trained one therefore gives us a compiled decode loop that
always sees the latest weights, with no backend code of our own. One program is traced per input
shape; callers pad batches to a few fixed shapes (see `batching.py`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.search.beam import beam_search
from keras_seq2seq.search.compaction import MIN_ROWS
from keras_seq2seq.search.greedy import greedy_search
from keras_seq2seq.search.sampling import sample_search
from keras_seq2seq.shapes import TracedShapes


class Generator(TracedShapes, keras.Model):
    """Runs greedy (`beam_size=1`) or beam search over a `Seq2Seq`; never saved (rebuilt on load).

    `generate` returns `(ids, scores)`: `batch x hypotheses x max_length` token ids, best first,
    and their `batch x hypotheses` scores (summed log-probabilities, length-normalised with
    `length_penalty` alpha under beam search). Greedy search gives one hypothesis per sentence;
    beam search gives `n_best` (default `beam_size`), and asking for fewer lets each sentence stop
    as soon as those are final (see `beam.py`).
    With `sampling` (a dict of `temperature`, `top_k`, `top_p`), tokens are drawn instead, from
    uniforms made on the host by `numpy.random.default_rng(seed)`.

    With `return_attention` (attention models only), `generate` returns a third array: every
    hypothesis's attention weights, `batch x hypotheses x max_length x src_len`, where row `t`
    is the attention that chose token `t` (zero rows after `<eos>`).

    With `no_repeat_ngram` n > 0, every search skips tokens that would repeat an n-gram of the
    output so far (`repeats.py`).

    With a `shortlist` table and `shortlist_size` > 0, greedy and beam search score only the
    `shortlist_size` target words that table offers for each batch (`shortlist.py`).

    With `shed` (the default), a batch sheds its finished sentences as it decodes
    (`compaction.py`): same outputs, fewer rows per step, one more loop to compile per shape.
    """

    def __init__(self, model, max_length: int, beam_size: int = 1, length_penalty: float = 0.0,
                 sampling: dict | None = None, return_attention: bool = False,
                 no_repeat_ngram: int = 0, n_best: int | None = None, shortlist=None,
                 shortlist_size: int = 0, shed: bool = True, **kwargs):
        super().__init__(**kwargs)
        # Nothing to build: the weights are the trained model's. Unbuilt, the first
        # `predict_on_batch` would run the whole search eagerly once to build it (16 s of a 21 s
        # first sentence on a 2x256 attention model) before compiling it.
        self.built = True
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}")
        self.model = model
        self.max_length = max_length
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.sampling = dict(sampling) if sampling is not None else None
        if self.sampling is not None and beam_size != 1:
            raise ValueError("sampling draws one hypothesis per sentence; use beam_size=1 with it")
        if return_attention and not model.decoder.has_attention:
            raise Seq2SeqError(
                "this model has no attention (it was trained with attention 'none'), so there "
                "are no attention weights to return; train with --attention bahdanau, "
                "luong-dot or luong-general")
        self.return_attention = return_attention
        if no_repeat_ngram < 0:
            raise ValueError(f"no_repeat_ngram must be 0 (off) or an n-gram size, got {no_repeat_ngram}")
        self.no_repeat_ngram = no_repeat_ngram
        self.n_best = beam_size if n_best is None else n_best
        if not 1 <= self.n_best <= beam_size:
            raise ValueError(f"n_best must be between 1 and beam_size ({beam_size}), got {n_best}")
        self.shed = shed
        self.shortlist = shortlist if shortlist_size else None
        self.shortlist_size = shortlist_size if shortlist is not None else 0
        if shortlist_size < 0:
            raise ValueError(f"shortlist_size must be 0 (off) or a number of words, got {shortlist_size}")
        if self.shortlist_size and (self.sampling is not None or no_repeat_ngram):
            raise Seq2SeqError("a vocabulary shortlist is for greedy and beam search; it cannot be "
                               "combined with sampling or no_repeat_ngram")

    def call(self, inputs):
        attention = self.return_attention
        shortlist = None
        if self.shortlist_size:
            inputs, shortlist = inputs
        # Finished sentences leave the batch as it decodes (compaction.py), except under a
        # data-parallel distribution, whose rows must stay split evenly across the devices.
        rows = ops.shape(inputs[0] if self.sampling is not None else inputs)[0]
        min_rows = MIN_ROWS if self.shed and keras.distribution.distribution() is None else rows
        if self.sampling is not None:
            source_ids, uniforms = inputs
            found = sample_search(self.model, source_ids, uniforms, self.max_length,
                                  return_attention=attention, no_repeat_ngram=self.no_repeat_ngram,
                                  min_rows=min_rows, **self.sampling)
        elif self.beam_size == 1:
            found = greedy_search(self.model, inputs, self.max_length, return_attention=attention,
                                  no_repeat_ngram=self.no_repeat_ngram, shortlist=shortlist,
                                  min_rows=min_rows)
        else:
            return beam_search(self.model, inputs, self.max_length, self.beam_size,
                               self.length_penalty, return_attention=attention,
                               no_repeat_ngram=self.no_repeat_ngram, n_best=self.n_best,
                               shortlist=shortlist, min_rows=min_rows)
        # One hypothesis per sentence: add the hypotheses axis.
        return tuple(ops.expand_dims(x, 1) for x in found)

    def generate(self, source_ids: np.ndarray, seed: int = 0) -> tuple[np.ndarray, ...]:
        """`(ids, scores)`, or `(ids, scores, attention)` with `return_attention`; numpy arrays."""
        inputs = source_ids
        if self.sampling is not None:
            uniforms = np.random.default_rng(seed).random((len(source_ids), self.max_length), np.float32)
            inputs = (source_ids, uniforms)
        elif self.shortlist_size:
            inputs = (source_ids, self.shortlist.for_batch(source_ids, self.shortlist_size))
        return tuple(np.asarray(x) for x in self.predict_on_batch(inputs))
