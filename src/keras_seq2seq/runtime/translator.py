"""`ExportedTranslator`: translate with an export directory, without Keras, JAX or torch.

It answers the calls the command line and the server make on a `Translator` (`translate`,
`translate_n_best`, `align`, `use_shortlist`, and the `settings`, `info`, vocabularies and
tokenisers they read), with the searches of `greedy.py` and `beam.py` over onnxruntime. What it
cannot do (sampling, n-gram blocking: they need the whole distribution, which the graphs do not
return) is refused with a `Seq2SeqError` that says to use the Keras model directory.

    >>> from keras_seq2seq.runtime import load
    >>> translator = load("exports/spa-eng")
    >>> translator.translate(["¿Dónde está la estación?"], beam_size=5)
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from keras_seq2seq.alignment import Alignment, hypothesis_alignment, surface_tokens
from keras_seq2seq.config import Settings
from keras_seq2seq.errors import ConfigError, ModelFileError, Seq2SeqError, VocabularyError
from keras_seq2seq.runtime.beam import beam_search
from keras_seq2seq.runtime.graphs import Graphs
from keras_seq2seq.runtime.greedy import greedy_search
from keras_seq2seq.runtime.manifest import read_manifest
from keras_seq2seq.search.options import Sampling, SearchOptions
from keras_seq2seq.search.shortlist import Shortlist
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.vocabulary import Vocabulary


class ExportedTranslator:
    """An exported model with its tokenisers, vocabularies and shortlist (see `load`)."""

    exported = True  # what the server checks before it offers sampling

    def __init__(self, directory: str | Path, threads: int = 0):
        directory = Path(directory)
        self.directory = directory
        self.manifest = read_manifest(directory)
        try:
            self.settings = Settings.from_dict(self.manifest.get("settings", {}))
            self.source_vocab = Vocabulary.load(directory / self.manifest["vocabularies"]["source"])
            self.target_vocab = Vocabulary.load(directory / self.manifest["vocabularies"]["target"])
            self.source_tokenizer = tokenizer_from_config(self.settings.text.source_tokenizer, directory)
            self.target_tokenizer = tokenizer_from_config(self.settings.text.target_tokenizer, directory)
        except (ConfigError, VocabularyError, KeyError, TypeError) as error:
            raise ModelFileError(f"{directory}: {error}") from None
        self.info = dict(self.manifest.get("info") or {})
        self.precision = self.manifest.get("precision", "float32")
        try:
            self.shortlist = Shortlist.load(directory, len(self.source_vocab), len(self.target_vocab))
        except Seq2SeqError as error:
            raise ModelFileError(str(error)) from None
        self.shortlist_size = 0
        self.graphs = Graphs(directory, self.manifest, threads)

    # ------------------------------------------------------------------ options
    @property
    def max_output_len(self) -> int:
        return self.settings.max_output_len or 100

    def use_shortlist(self, size: int) -> None:
        """Score only `size` candidate target words per batch (0: all); see `Translator.use_shortlist`."""
        if size < 0:
            raise ValueError(f"the shortlist size must be 0 (off) or a number of words, got {size}")
        if size and self.shortlist is None:
            raise Seq2SeqError(f"{self.directory}: this export has no vocabulary shortlist (shortlist.json); "
                               "build one for the Keras model with `seq2seq shortlist` and export again")
        self.shortlist_size = 0 if size >= len(self.target_vocab) else size

    # ------------------------------------------------------------------ text <-> ids
    def encode_source(self, text: str) -> np.ndarray:
        return np.asarray(self.source_vocab.encode(self.source_tokenizer.tokenize(text)), np.int32)

    def decode_target(self, ids: Sequence[int]) -> str:
        return self.target_tokenizer.detokenize(self.target_vocab.decode(ids))

    # ------------------------------------------------------------------ translation
    def search_options(self, options: SearchOptions | None = None, **choices) -> SearchOptions:
        """The options a call decodes with (as `Translator.search_options`); the runtime runs
        greedy and beam search, so sampling and n-gram blocking are refused here."""
        if options is None:
            choices["sampling"] = Sampling.of(choices.get("sampling"))
            options = SearchOptions(**choices)
        if options.sampling is not None or options.no_repeat_ngram:
            what = "sampling" if options.sampling is not None else "no_repeat_ngram"
            raise Seq2SeqError(f"the ONNX runtime decodes with greedy and beam search only; {what} needs the "
                               "whole distribution: use the Keras model directory for it")
        return options.with_default_shortlist(self.shortlist_size)

    def translate(self, texts: Sequence[str], batch_size: int | None = None, beam_size: int = 1,
                  length_penalty: float = 0.0, sampling: dict | None = None, seed: int = 0,
                  no_repeat_ngram: int = 0, replace_unk: bool = False, *,
                  options: SearchOptions | None = None) -> list[str]:
        """One output per input, in order (greedy, or beam search with `beam_size`)."""
        options = self.search_options(options, beam_size=beam_size, length_penalty=length_penalty,
                                      sampling=sampling, seed=seed, no_repeat_ngram=no_repeat_ngram,
                                      replace_unk=replace_unk)
        best = self.translate_n_best(texts, batch_size=batch_size, options=options.replace(n_best=1))
        return [hypotheses[0][0] for hypotheses in best]

    def translate_n_best(self, texts: Sequence[str], n_best: int = 1, batch_size: int | None = None,
                         beam_size: int = 1, length_penalty: float = 0.0, sampling: dict | None = None,
                         seed: int = 0, no_repeat_ngram: int = 0, replace_unk: bool = False, *,
                         options: SearchOptions | None = None) -> list[list[tuple[str, float]]]:
        """For every input, its `n_best` outputs as `(text, score)`, best first (as `Translator`)."""
        _check_texts(texts)
        options = self.search_options(options, n_best=n_best, beam_size=beam_size, length_penalty=length_penalty,
                                      sampling=sampling, seed=seed, no_repeat_ngram=no_repeat_ngram,
                                      replace_unk=replace_unk)
        if options.replace_unk:
            found = self.align_n_best(texts, batch_size, options=options)
            return [[(a.text, a.score) for a in hypotheses] for hypotheses in found]
        outputs: list[list[tuple[str, float]]] = [[] for _ in texts]
        for i, (ids, scores) in self._generate(texts, batch_size, options, False):
            outputs[i] = [(self.decode_target(ids[n].tolist()), float(scores[n])) for n in range(options.n_best)]
        return outputs

    def align(self, texts: Sequence[str], beam_size: int = 1, length_penalty: float = 0.0,
              batch_size: int | None = None, replace_unk: bool = False, sampling: dict | None = None,
              seed: int = 0, no_repeat_ngram: int = 0, *, options: SearchOptions | None = None) -> list[Alignment]:
        """For every text, its best output with the attention that wrote it (see `Translator.align`)."""
        options = self.search_options(options, beam_size=beam_size, length_penalty=length_penalty,
                                      sampling=sampling, seed=seed, no_repeat_ngram=no_repeat_ngram,
                                      replace_unk=replace_unk)
        return [hypotheses[0] for hypotheses in self.align_n_best(texts, batch_size, options=options.replace(n_best=1))]

    def align_n_best(self, texts: Sequence[str], batch_size: int | None = None, *,
                     options: SearchOptions) -> list[list[Alignment]]:
        """For every text, its `options.n_best` hypotheses as `Alignment`s (attention models only)."""
        _check_texts(texts)
        options = self.search_options(options)
        if not self.graphs.has_attention:
            raise Seq2SeqError("this model has no attention (it was trained with attention 'none'), so there "
                               "are no attention weights to return")
        results: list[list[Alignment]] = [[] for _ in texts]
        for i, (ids, scores, attention) in self._generate(texts, batch_size, options, True):
            source_tokens = self.source_tokenizer.tokenize(texts[i])
            surface = surface_tokens(self.source_tokenizer, texts[i]) if options.replace_unk else None
            results[i] = [hypothesis_alignment(ids[n], attention[n], source_tokens, float(scores[n]), surface,
                                                 self.target_vocab, self.target_tokenizer)
                          for n in range(options.n_best)]
        return results

    # ------------------------------------------------------------------ internals
    def _generate(self, texts: Sequence[str], batch_size: int | None, options: SearchOptions,
                  return_attention: bool):
        """Yields `(index into texts, (ids hypotheses x max_length, scores[, attention]))`.

        Texts are decoded in length-sorted batches, each padded only to its own longest source:
        onnxruntime runs any shape without compiling, so no padding to common shapes is needed.
        """
        batch_size = batch_size or self.settings.train.batch_size
        encoded = [self.encode_source(t) for t in texts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            source_ids = np.zeros((len(rows), max([len(encoded[i]) for i in rows] + [1])), np.int32)
            for row, i in enumerate(rows):
                source_ids[row, : len(encoded[i])] = encoded[i]
            size = options.shortlist if options.shortlist < len(self.target_vocab) else 0
            if size and self.shortlist is None:
                raise Seq2SeqError("this export has no vocabulary shortlist (export a model that has shortlist.json)")
            shortlist = self.shortlist.for_batch(source_ids, size) if size else None
            max_length = options.max_length or self.max_output_len
            if options.beam_size == 1:
                found = greedy_search(self.graphs, source_ids, max_length, shortlist, return_attention)
                found = tuple(x[:, None] for x in found)  # one hypothesis per sentence
            else:
                found = beam_search(self.graphs, source_ids, max_length, options.beam_size, options.length_penalty,
                                    options.n_best, shortlist, return_attention)
            for row, i in enumerate(rows):
                yield i, tuple(x[row] for x in found)


def load(directory: str | Path, threads: int = 0) -> ExportedTranslator:
    """The export in `directory`, checked (manifest version, every file's SHA-256) and ready."""
    return ExportedTranslator(directory, threads)


def _check_texts(texts) -> None:
    if isinstance(texts, str):
        raise TypeError("translate() takes a list of strings; wrap a single string in a list")
