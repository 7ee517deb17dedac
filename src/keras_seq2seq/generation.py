"""Generation: texts in, outputs out, through compiled search programs kept for reuse.

A `Generation` decodes with one `ModelBundle`. For every distinct `SearchOptions.program()` it
keeps one compiled `Generator` (compiling takes seconds; decoding a batch, milliseconds; values
such as the length penalty or the temperature are inputs of a program, not part of it), and it
feeds the generators length-sorted batches padded to a few lengths and row counts, so that each
program compiles for a handful of shapes only. Translation, dev scoring during training, the
server and alignments all decode through here.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.data.batching import pad, padded_length
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.shapes import check, decode_rows, generation_bound


class Generation:
    """Decodes texts with `bundle`'s model: greedy, beam search or sampling, as options say.

    Args:
        bundle: the model with its tokenisers and vocabularies.
        batch_size: sentences decoded together by default (the training batch size if None).
    """

    def __init__(self, bundle: ModelBundle, batch_size: int | None = None):
        self.bundle = bundle
        self.batch_size = batch_size
        self._generators: dict[tuple, Generator] = {}

    def reset(self) -> None:
        """Forget the compiled programs: the model, or its output length limit, has changed."""
        self._generators.clear()

    def effective(self, options: SearchOptions) -> SearchOptions:
        """`options` as this model runs them: the output limit filled in, and a shortlist as
        large as the target vocabulary dropped (it would list every word)."""
        changes = {}
        if options.max_length is None:
            changes["max_length"] = self.bundle.max_output_len
        if options.shortlist >= len(self.bundle.target_vocab):
            changes["shortlist"] = 0
        return options.replace(**changes) if changes else options

    def generator(self, options: SearchOptions) -> Generator:
        """The compiled generator for `options` (made once, then reused)."""
        options = self.effective(options)
        key = options.program()
        if key not in self._generators:
            self._generators[key] = Generator(self.bundle.model, options.max_length, options,
                                              shortlist=self.bundle.shortlist)
        return self._generators[key]

    def rows(self, texts: Sequence[str], options: SearchOptions,
             batch_size: int | None = None) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        """Decode `texts`; yields `(index into texts, that text's arrays)`.

        The arrays are the generator's outputs for one sentence: `ids hypotheses x max_length`,
        `scores hypotheses` (and `attention hypotheses x max_length x src_len` with
        `options.attention`). Texts are decoded in length-sorted batches padded to a few
        lengths and row counts (`shapes.decode_rows`: a lone sentence is one row), so each
        shape compiles once; yields come in that order, not the input order.
        """
        if isinstance(texts, str):
            raise TypeError("decoding takes a list of strings; wrap a single string in a list")
        generator = self.generator(options)
        options = self.effective(options)
        batch_size = self._batch_size(batch_size)
        step = self.bundle.settings.train.length_step
        encoded = [self.bundle.encode_source(text) for text in texts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            length = padded_length(max([len(encoded[i]) for i in rows] + [1]), step)
            arrays = generator.generate(pad([encoded[i] for i in rows], length, decode_rows(len(rows), batch_size)),
                                        seed=options.seed + start, options=options)
            for row, i in enumerate(rows):
                yield i, tuple(a[row] for a in arrays)

    def n_best(self, texts: Sequence[str], options: SearchOptions,
               batch_size: int | None = None) -> list[list[tuple[str, float]]]:
        """For every text, its `options.n_best` outputs as `(text, score)`, best first."""
        outputs: list[list[tuple[str, float]]] = [[] for _ in texts]
        for i, (ids, scores, *_) in self.rows(texts, options, batch_size):
            outputs[i] = [(self.bundle.decode_target(ids[n].tolist()), float(scores[n]))
                          for n in range(options.n_best)]
        return outputs

    # ---------------------------------------------------------------- compiled shapes
    def traced_programs(self) -> int:
        """Programs traced by all generators so far (one generator per search program)."""
        return sum(g.traced_shapes().get("predict", 0) for g in self._generators.values())

    def shape_summary(self, texts: Sequence[str], batch_size: int | None = None) -> tuple[int, int]:
        """`(programs traced, bound)` after decoding `texts`; warns if the bound was exceeded.

        The bound counts the search programs used so far (one generator each): padded lengths
        of the longest text times the row counts a batch can have, per program.
        """
        longest = max((len(self.bundle.encode_source(text)) for text in texts), default=0)
        bound = generation_bound(longest, self.bundle.settings.train.length_step, self._batch_size(batch_size),
                                 searches=max(1, len(self._generators)))
        traced = self.traced_programs()
        check({"generate": traced}, {"generate": bound}, "decoding")
        return traced, bound

    def _batch_size(self, batch_size: int | None) -> int:
        return batch_size or self.batch_size or self.bundle.settings.train.batch_size
