"""`Translator`: the public face. Train, translate, evaluate, save and load in a few lines.

    >>> from keras_seq2seq import Translator, task_splits
    >>> data = task_splits("dates", train=20000)
    >>> translator = Translator.train(data["train"], dev=data["dev"], preset="dates")
    >>> translator.translate(["March 3, 2021"])
    ['2021-03-03']
    >>> translator.save("runs/dates"); translator = Translator.load("runs/dates")

A translator holds a trained model bundle (`bundle.py`: the `Seq2Seq` model with its tokenisers,
vocabularies and settings) and the compiled generators that decode with it (`generation.py`).
Training happens in `training/`; `Translator.train` and `fit` hand the work over and wrap what
comes back. All of it lives in one model directory (`artifacts.py`).

Search options come as keywords (`beam_size=5, length_penalty=0.6`) or as one `SearchOptions`
(`options=...`), checked once when made.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from keras_seq2seq import artifacts, metrics
from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.config import Settings, resolve
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.data.training_data import as_pair, training_data
from keras_seq2seq.errors import Seq2SeqError
from keras_seq2seq.generation import Generation
from keras_seq2seq.scoring import Scoring, perplexity
from keras_seq2seq.search.options import InvalidOption, Sampling, SearchOptions

if TYPE_CHECKING:
    from keras_seq2seq.alignment import Alignment
    from keras_seq2seq.reranking import MmiReranker

PairLike = Pair | tuple[str, str]


class Translator:
    """A trained sequence-to-sequence model with its tokenisers and vocabularies."""

    def __init__(self, bundle: ModelBundle):
        self.bundle = bundle
        self._generation = Generation(bundle)
        self._scoring = Scoring(bundle)
        self._shortlist_size = 0  # greedy/beam searches use the shortlist at this size (0: off)

    # ------------------------------------------------------------------- what it holds
    @property
    def model(self):
        return self.bundle.model

    @property
    def settings(self) -> Settings:
        return self.bundle.settings

    @property
    def source_vocab(self):
        return self.bundle.source_vocab

    @property
    def target_vocab(self):
        return self.bundle.target_vocab

    @property
    def source_tokenizer(self):
        return self.bundle.source_tokenizer

    @property
    def target_tokenizer(self):
        return self.bundle.target_tokenizer

    @property
    def info(self) -> dict:
        """Data description and training record, saved in config.json."""
        return self.bundle.info

    @property
    def shortlist(self):
        """The vocabulary shortlist table (`search/shortlist.py`), or None."""
        return self.bundle.shortlist

    @shortlist.setter
    def shortlist(self, table) -> None:
        self.bundle.shortlist = table
        self._generation.reset()

    @property
    def shortlist_size(self) -> int:
        return self._shortlist_size

    @property
    def max_output_len(self) -> int:
        return self.bundle.max_output_len

    def use_shortlist(self, size: int) -> None:
        """Score only `size` candidate target words per batch in greedy and beam search (0: all).

        An approximation for speed (see `search/shortlist.py`); a `size` at or above the target
        vocabulary means the whole vocabulary, as without a shortlist. Sampling, and searches
        with `no_repeat_ngram`, keep scoring every word.
        """
        if size < 0:
            raise InvalidOption("shortlist", f"must be 0 (off) or a number of words, got {size}")
        if size and self.shortlist is None:
            raise Seq2SeqError("this model has no vocabulary shortlist (shortlist.json); build one with "
                               "`seq2seq shortlist --model DIR --data TRAIN`")
        self._shortlist_size = 0 if size >= len(self.target_vocab) else size

    # ----------------------------------------------------------------- building and training
    @classmethod
    def create(cls, train: Iterable[PairLike], settings: Settings | None = None,
               preset_name: str | None = None, **overrides) -> "Translator":
        """An untrained translator whose vocabularies are built from `train`."""
        from keras_seq2seq.training.builder import build_bundle

        return cls(build_bundle(training_data(train), resolve(preset_name, settings, **overrides)))

    @classmethod
    def train(cls, train: Iterable[PairLike], dev: Iterable[PairLike] | None = None,
              preset: str | None = None, out_dir: str | Path | None = None, verbose: int = 1,
              info: dict | None = None, log_dir: str | Path | None = None, resume: bool | None = None,
              settings: Settings | None = None, callbacks: Sequence = (), max_steps: int | None = None,
              **overrides) -> "Translator":
        """Build vocabularies from `train` (pairs, or a `StreamedCorpus`), then fit.

        Settings are `settings`, or the named `preset`'s (the defaults without one), with
        `overrides` such as `epochs=5`. When `out_dir` holds an unfinished run, training continues
        from it (`resume=None`, or `True`, which fails when there is none); `resume=False`
        discards it. `callbacks` are extra Keras callbacks; `max_steps` ends training after that
        many steps. See `training.train` and `fit` for the rest.
        """
        from keras_seq2seq import training

        return cls(training.train(train, dev, resolve(preset, settings, **overrides), out_dir=out_dir,
                                  verbose=verbose, info=info, log_dir=log_dir, resume=resume,
                                  callbacks=callbacks, max_steps=max_steps))

    def fit(self, train: Iterable[PairLike], dev: Iterable[PairLike] | None = None,
            out_dir: str | Path | None = None, verbose: int = 1, log_dir: str | Path | None = None,
            resume_from=None, callbacks: Sequence = (), max_steps: int | None = None) -> dict:
        """Train this translator's model further on `train`; returns the training record (also kept
        in `info["training"]`). See `training.fit`."""
        from keras_seq2seq import training

        try:
            return training.fit(self.bundle, train, dev, out_dir=out_dir, verbose=verbose, log_dir=log_dir,
                                resume_from=resume_from, callbacks=callbacks, max_steps=max_steps)
        finally:
            self._generation.reset()  # a new model, or a new output length limit
            self._scoring.reset()

    # -------------------------------------------------------------------- text ⇄ ids
    def encode_source(self, text: str):
        return self.bundle.encode_source(text)

    def encode_target(self, text: str):
        """Target ids with `<eos>` appended (no `<bos>`: the batcher adds it for teacher forcing)."""
        return self.bundle.encode_target(text)

    def decode_target(self, ids: Sequence[int]) -> str:
        return self.bundle.decode_target(ids)

    # --------------------------------------------------------------------- generation
    def search_options(self, options: SearchOptions | None = None, **choices) -> SearchOptions:
        """The options a call decodes with: `options`, or made from keyword `choices`, with this
        translator's shortlist (`use_shortlist`) where the search can use it."""
        if options is None:
            choices["sampling"] = Sampling.of(choices.get("sampling"))
            options = SearchOptions(**choices)
        return options.with_default_shortlist(self._shortlist_size)

    def generator(self, options: SearchOptions | None = None, **choices):
        """The compiled generator for these search options (made once, then reused)."""
        return self._generation.generator(self.search_options(options, **choices))

    def translate(self, texts: Sequence[str], batch_size: int | None = None, beam_size: int = 1,
                  length_penalty: float = 0.0, sampling: Sampling | dict | None = None, seed: int = 0,
                  no_repeat_ngram: int = 0, replace_unk: bool = False, *,
                  options: SearchOptions | None = None) -> list[str]:
        """One output string per input string, in order: greedy, beam search with `beam_size`,
        or sampling with `sampling={"temperature": 0.8, "top_k": 40, "top_p": 0.9}` and `seed`.
        `no_repeat_ngram=n` (n > 0) forbids any output from repeating one of its own n-grams.
        `replace_unk=True` (attention models) copies, for every `<unk>` output, the source word
        attended to most at that step. Or pass all of these as one `options`."""
        options = self.search_options(options, beam_size=beam_size, length_penalty=length_penalty,
                                      sampling=sampling, seed=seed, no_repeat_ngram=no_repeat_ngram,
                                      replace_unk=replace_unk)
        best = self.translate_n_best(texts, batch_size=batch_size, options=options.replace(n_best=1))
        return [hypotheses[0][0] for hypotheses in best]

    def translate_n_best(self, texts: Sequence[str], n_best: int = 1, batch_size: int | None = None,
                         beam_size: int = 1, length_penalty: float = 0.0,
                         sampling: Sampling | dict | None = None, seed: int = 0, no_repeat_ngram: int = 0,
                         replace_unk: bool = False, *,
                         options: SearchOptions | None = None) -> list[list[tuple[str, float]]]:
        """For every input, its `n_best` outputs as `(text, score)`, best first.

        Scores are summed log-probabilities (divided by GNMT's length penalty when
        `length_penalty` alpha > 0). `n_best` can be at most `beam_size`. Inputs are decoded in
        length-sorted, full-size batches: one compiled program per padded length. With
        `replace_unk`, unknown words are copied from the source (see `translate`).
        """
        if isinstance(texts, str):
            raise TypeError("translate() takes a list of strings; wrap a single string in a list")
        options = self.search_options(options, n_best=n_best, beam_size=beam_size, length_penalty=length_penalty,
                                      sampling=sampling, seed=seed, no_repeat_ngram=no_repeat_ngram,
                                      replace_unk=replace_unk)
        if options.replace_unk:
            from keras_seq2seq.alignment import n_best_alignments

            found = n_best_alignments(self.bundle, self._generation, texts, options, batch_size)
            return [[(a.text, a.score) for a in hypotheses] for hypotheses in found]
        return self._generation.n_best(texts, options, batch_size)

    def generate_rows(self, texts: Sequence[str], options: SearchOptions, batch_size: int | None = None):
        """Decode `texts` with `options`; yields `(index into texts, that text's arrays)` in the
        order batches are decoded (see `Generation.rows`)."""
        return self._generation.rows(texts, self.search_options(options), batch_size)

    def align(self, texts: Sequence[str], beam_size: int = 1, length_penalty: float = 0.0,
              batch_size: int | None = None, replace_unk: bool = False,
              sampling: Sampling | dict | None = None, seed: int = 0, no_repeat_ngram: int = 0, *,
              options: SearchOptions | None = None) -> list["Alignment"]:
        """For every text, its best output with the attention that wrote it (attention models).

        Returns one `alignment.Alignment` per text: `.source_tokens`, `.target_tokens` (ending
        with `<eos>` when produced), `.weights` (`target x source` numpy array, rows sum to 1)
        and `.text` (equal to `translate`'s output for the same options).
        """
        return [hypotheses[0] for hypotheses in self.align_n_best(
            texts, batch_size, options=self.search_options(
                options, beam_size=beam_size, length_penalty=length_penalty, sampling=sampling, seed=seed,
                no_repeat_ngram=no_repeat_ngram, replace_unk=replace_unk).replace(n_best=1))]

    def align_n_best(self, texts: Sequence[str], batch_size: int | None = None, *,
                     options: SearchOptions) -> list[list["Alignment"]]:
        """For every text, its `options.n_best` outputs with their attention, best first."""
        from keras_seq2seq.alignment import n_best_alignments

        return n_best_alignments(self.bundle, self._generation, texts, self.search_options(options), batch_size)

    def evaluate(self, pairs: Iterable[PairLike], batch_size: int | None = None, beam_size: int = 1,
                 length_penalty: float = 0.0, replace_unk: bool = False, *,
                 options: SearchOptions | None = None, target_lang: str | None = None) -> dict:
        """Scores on `pairs`, the sacreBLEU signatures of BLEU and chrF under `"signatures"`, plus the
        outputs themselves under `"hypotheses"`.

        `target_lang` ("zh", "cmn", ...) picks sacreBLEU's tokenisation for BLEU (`zh` for
        Chinese); without it, Chinese references are detected. The result names the language
        under `"target_lang"`."""
        pairs = [as_pair(p) for p in pairs]
        if not pairs:
            raise Seq2SeqError("nothing to evaluate: no (source, target) pairs")
        options = self.search_options(options, beam_size=beam_size, length_penalty=length_penalty,
                                      replace_unk=replace_unk)
        started = time.perf_counter()
        hypotheses = self.translate([p.source for p in pairs], batch_size, options=options)
        seconds = time.perf_counter() - started
        references = [p.target for p in pairs]
        scores = metrics.score(hypotheses, references, self.target_tokenizer.tokenize, target_lang)
        return {**scores, "sentences": len(pairs), "seconds": seconds,
                "sentences_per_second": len(pairs) / max(seconds, 1e-9), "hypotheses": hypotheses}

    # ------------------------------------------------------------------------ dialogue
    def log_probs(self, pairs: Iterable[PairLike], batch_size: int | None = None):
        """`(log_probs, tokens)` arrays: each pair's log p(target | source), summed over its
        target tokens and `<eos>` (teacher forced), and that token count (see `scoring.py`)."""
        return self._scoring.log_probs([(q.source, q.target) for q in map(as_pair, pairs)], batch_size)

    def reply(self, contexts: Sequence[str], batch_size: int | None = None, *, options: SearchOptions,
              reranker: "MmiReranker | None" = None, draws: int = 1) -> list[str]:
        """One reply per context: `translate`'s output, or the best of `reply_candidates`: by the
        `reranker` (maximum mutual information, `reranking.py`) when there is one, else the
        likeliest of the `draws` sampled replies."""
        options = self.search_options(options)
        if reranker is None and draws == 1:
            return self.translate(contexts, batch_size, options=options.replace(n_best=1))
        candidates = self.reply_candidates(contexts, batch_size, options=options, draws=draws)
        if reranker is not None:
            return [replies[0][0] for replies in reranker.rerank(contexts, candidates)]
        return [max(replies, key=lambda candidate: candidate[1])[0] for replies in candidates]

    def reply_candidates(self, contexts: Sequence[str], batch_size: int | None = None, *,
                         options: SearchOptions, draws: int = 1) -> list[list[tuple[str, float]]]:
        """Each context's candidate replies as `(text, score)`: the beam's `beam_size` outputs, or
        with sampling, `draws` sampled replies (a repeated draw kept once). Scores are summed
        log-probabilities, divided by GNMT's length penalty when `options.length_penalty` > 0 (for
        draws too, so that a short, generic reply does not win by its length alone). Sampled
        candidates differ in more than their last words, so a reranker has real alternatives."""
        options = self.search_options(options)
        if options.sampling is None:
            if draws != 1:
                raise InvalidOption("draws", f"are for sampling (a beam gives its beam_size candidates), got {draws!r}")
            if options.beam_size < 2:
                raise InvalidOption("beam_size", f"must be at least 2 to rerank candidates, got {options.beam_size}")
            return self.translate_n_best(contexts, batch_size=batch_size,
                                         options=options.replace(n_best=options.beam_size))
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
            raise InvalidOption("draws", f"must be at least 2 to choose among sampled replies, got {draws!r}")
        # Each batch is seeded with seed + its first index: strides past the last index keep draws apart.
        stride = len(contexts) + 1
        kept: list[dict[str, float]] = [{} for _ in contexts]
        for draw in range(draws):
            found = self.translate_n_best(contexts, batch_size=batch_size,
                                          options=options.replace(n_best=1, seed=options.seed + draw * stride))
            for candidates, hypotheses in zip(kept, found):
                text, score = hypotheses[0]
                if options.length_penalty and text not in candidates:
                    tokens = len(self.target_tokenizer.tokenize(text)) + 1  # <eos> counted, as beam search counts it
                    score /= ((5 + tokens) / 6) ** options.length_penalty
                candidates.setdefault(text, score)
        return [list(candidates.items()) for candidates in kept]

    def evaluate_dialogue(self, pairs: Iterable[PairLike], batch_size: int | None = None, *,
                          options: SearchOptions, reranker: "MmiReranker | None" = None,
                          draws: int = 1, target_lang: str | None = None) -> dict:
        """What dialogue papers report on (context, reply) pairs: perplexity of the reference
        replies, then on the generated ones BLEU (with its signature), Distinct-1/2, mean length
        and the ten most frequent replies' share; the replies themselves under `"hypotheses"`.
        `target_lang` is read as `evaluate` reads it (Chinese replies counted in characters)."""
        pairs = [as_pair(p) for p in pairs]
        if not pairs:
            raise Seq2SeqError("nothing to evaluate: no (context, reply) pairs")
        log_probs, tokens = self.log_probs(pairs, batch_size)
        started = time.perf_counter()
        hypotheses = self.reply([p.source for p in pairs], batch_size, options=options, reranker=reranker,
                                draws=draws)
        seconds = time.perf_counter() - started
        scores = metrics.dialogue_scores(hypotheses, [p.target for p in pairs], target_lang)
        return {"perplexity": perplexity(log_probs, tokens), **scores,
                "sentences": len(pairs), "seconds": seconds, "sentences_per_second": len(pairs) / max(seconds, 1e-9),
                "hypotheses": hypotheses}

    def compiled_shapes(self, texts: Sequence[str], batch_size: int | None = None) -> tuple[int, int]:
        """`(programs traced, bound)` for the decoding of `texts` so far; warns over the bound."""
        return self._generation.shape_summary(texts, batch_size)

    # ---------------------------------------------------------------------- save / load
    def save(self, directory: str | Path) -> None:
        """Write the model directory (each file atomically; `config.json` last)."""
        artifacts.save_bundle(self.bundle, directory)

    @classmethod
    def load(cls, directory: str | Path) -> "Translator":
        """Load a model directory written by `save`; clear `ModelFileError`s for anything wrong."""
        return cls(artifacts.load_bundle(directory))
