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
from keras_seq2seq.search.sampling import MIN_TEMPERATURE, sample_search
from keras_seq2seq.shapes import TracedShapes


# Temperatures are used within these bounds: below, a draw is the most likely token anyway;
# above, the distribution is flat (and float32 would overflow).
TEMPERATURE_RANGE = (MIN_TEMPERATURE, 1e30)


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

    One compiled program serves every options value with the same `options.program()`: the
    seed, `n_best`, the length penalty, the temperature, `top_k` and `top_p` are inputs of the
    program (one value per row), given to `generate`; unknown words are replaced afterwards
    (`alignment.py`). A server sent a new temperature with every request compiles nothing new.
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

    def call(self, inputs: dict):
        """`inputs`: the `source_ids`, and what `runtime_inputs` adds for these options."""
        options = self.options
        source_ids = inputs["source_ids"]
        # Finished sentences leave the batch as it decodes (compaction.py), except under a
        # data-parallel distribution, whose rows must stay split evenly across the devices.
        rows = ops.shape(source_ids)[0]
        min_rows = MIN_ROWS if self.shed and keras.distribution.distribution() is None else rows
        common = dict(return_attention=options.attention, no_repeat_ngram=options.no_repeat_ngram,
                      min_rows=min_rows)
        if options.sampling is not None:
            # A filter left off (top_k 0, top_p 1) is no input and not computed at all.
            filters = {name: inputs.get(name, off) for name, off in (("top_k", 0), ("top_p", 1.0))}
            found = sample_search(self.model, source_ids, inputs["uniforms"], self.max_length, **common,
                                  temperature=inputs["temperature"], **filters)
        elif options.beam_size == 1:
            found = greedy_search(self.model, source_ids, self.max_length, shortlist=inputs.get("shortlist"),
                                  **common)
        else:
            return beam_search(self.model, source_ids, self.max_length, options.beam_size,
                               inputs["length_penalty"], n_best=inputs["n_best"],
                               shortlist=inputs.get("shortlist"), **common)
        # One hypothesis per sentence: add the hypotheses axis.
        return tuple(ops.expand_dims(x, 1) for x in found)

    def runtime_inputs(self, source_ids: np.ndarray, options: SearchOptions, seed: int) -> dict:
        """The program's inputs for `options`: the sources and each option value, one per row."""
        rows = len(source_ids)
        inputs = {"source_ids": source_ids}
        if options.sampling is not None:
            sampling = options.sampling
            inputs["uniforms"] = np.random.default_rng(seed).random((rows, self.max_length), np.float32)
            inputs["temperature"] = np.full(rows, np.clip(sampling.temperature, *TEMPERATURE_RANGE), np.float32)
            if sampling.top_k:  # more than the vocabulary is the whole vocabulary
                inputs["top_k"] = np.full(rows, min(sampling.top_k, self.model.target_vocab_size), np.int32)
            if sampling.top_p < 1.0:
                inputs["top_p"] = np.full(rows, sampling.top_p, np.float32)
        elif options.beam_size > 1:
            inputs["length_penalty"] = np.full(rows, options.length_penalty, np.float32)
            inputs["n_best"] = np.full(rows, options.n_best, np.int32)
        if self.shortlist is not None:
            inputs["shortlist"] = self.shortlist.for_batch(source_ids, options.shortlist)
        return inputs

    def generate(self, source_ids: np.ndarray, seed: int = 0,
                 options: SearchOptions | None = None) -> tuple[np.ndarray, ...]:
        """`(ids, scores)`, or `(ids, scores, attention)` with `options.attention`; numpy arrays.

        `options` (default: the generator's own) may differ from the generator's in the values
        that are inputs of the program, not in the program itself.
        """
        options = options or self.options
        if options.program() != self.options.program():
            raise ValueError(f"these options need another compiled program: {options.program()} "
                             f"is not {self.options.program()}")
        arrays = self.predict_on_batch(self.runtime_inputs(source_ids, options, seed))
        return tuple(np.asarray(x)[:, : options.n_best] for x in arrays)
