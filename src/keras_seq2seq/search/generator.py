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
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.search.sampling import sample_search
from keras_seq2seq.shapes import TracedShapes


class Generator(TracedShapes, keras.Model):
    """Runs one search, as `options` say, over a `Seq2Seq`; never saved (rebuilt on load).

    `generate` returns `(ids, scores)`: `batch x hypotheses x max_length` token ids, best first,
    and their `batch x hypotheses` scores (summed log-probabilities, length-normalised with
    `length_penalty` alpha under beam search). Greedy search and sampling give one hypothesis
    per sentence; beam search gives `options.n_best`, and asking for fewer than `beam_size` lets
    each sentence stop as soon as those are final (see `beam.py`). Sampling draws tokens from
    uniforms made on the host by `numpy.random.default_rng(seed)`.

    With `options.attention` (attention models only), `generate` returns a third array: every
    hypothesis's attention weights, `batch x hypotheses x max_length x src_len`, where row `t`
    is the attention that chose token `t` (zero rows after `<eos>`).

    With `options.no_repeat_ngram` n > 0, every search skips tokens that would repeat an n-gram
    of the output so far (`repeats.py`). With `options.shortlist` > 0 and a `shortlist` table,
    greedy and beam search score only that many target words per batch (`shortlist.py`).

    With `shed` (the default), a batch sheds its finished sentences as it decodes
    (`compaction.py`): same outputs, fewer rows per step, one more loop to compile per shape.
    `options.seed` and `options.replace_unk` do not change the program: the seed is given to
    `generate`, and unknown words are replaced afterwards (`alignment.py`).
    """

    def __init__(self, model, max_length: int, options: SearchOptions = SearchOptions(), shortlist=None,
                 shed: bool = True, **kwargs):
        super().__init__(**kwargs)
        # Nothing to build: the weights are the trained model's. Unbuilt, the first
        # `predict_on_batch` would run the whole search eagerly once to build it (most of a
        # first sentence's latency) before compiling it.
        self.built = True
        if options.attention and not model.decoder.has_attention:
            raise Seq2SeqError(
                "this model has no attention (it was trained with attention 'none'), so there "
                "are no attention weights to return; train with --attention bahdanau, "
                "luong-dot or luong-general")
        if options.shortlist and shortlist is None:
            raise Seq2SeqError("this model has no vocabulary shortlist (shortlist.json); build one with "
                               "`seq2seq shortlist --model DIR --data TRAIN`")
        self.model = model
        self.max_length = max_length
        self.options = options
        self.shed = shed
        self.shortlist = shortlist if options.shortlist else None

    def call(self, inputs):
        options = self.options
        shortlist = None
        if self.shortlist is not None:
            inputs, shortlist = inputs
        # Finished sentences leave the batch as it decodes (compaction.py), except under a
        # data-parallel distribution, whose rows must stay split evenly across the devices.
        rows = ops.shape(inputs[0] if options.sampling is not None else inputs)[0]
        min_rows = MIN_ROWS if self.shed and keras.distribution.distribution() is None else rows
        common = dict(return_attention=options.attention, no_repeat_ngram=options.no_repeat_ngram,
                      min_rows=min_rows)
        if options.sampling is not None:
            source_ids, uniforms = inputs
            found = sample_search(self.model, source_ids, uniforms, self.max_length, **common,
                                  **options.sampling.as_dict())
        elif options.beam_size == 1:
            found = greedy_search(self.model, inputs, self.max_length, shortlist=shortlist, **common)
        else:
            return beam_search(self.model, inputs, self.max_length, options.beam_size, options.length_penalty,
                               n_best=options.n_best, shortlist=shortlist, **common)
        # One hypothesis per sentence: add the hypotheses axis.
        return tuple(ops.expand_dims(x, 1) for x in found)

    def generate(self, source_ids: np.ndarray, seed: int = 0) -> tuple[np.ndarray, ...]:
        """`(ids, scores)`, or `(ids, scores, attention)` with `options.attention`; numpy arrays."""
        inputs = source_ids
        if self.options.sampling is not None:
            uniforms = np.random.default_rng(seed).random((len(source_ids), self.max_length), np.float32)
            inputs = (source_ids, uniforms)
        elif self.shortlist is not None:
            inputs = (source_ids, self.shortlist.for_batch(source_ids, self.options.shortlist))
        return tuple(np.asarray(x) for x in self.predict_on_batch(inputs))
