"""`Translator`: the public face. Train, translate, evaluate, save and load in a few lines.

    >>> from keras_seq2seq import Translator, task_splits
    >>> data = task_splits("dates", train=20000)
    >>> translator = Translator.train(data["train"], dev=data["dev"], preset="dates")
    >>> translator.translate(["March 3, 2021"])
    ['2021-03-03']
    >>> translator.save("runs/dates"); translator = Translator.load("runs/dates")

A translator is a trained `Seq2Seq` plus what turns text into its ids and back: two tokenisers
and two vocabularies, and the settings it was made with. All of it lives in one model directory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

import keras
import numpy as np

from keras_seq2seq import artifacts, metrics
from keras_seq2seq.architectures import MODEL_CLASSES, build_model
from keras_seq2seq.config import Settings, preset
from keras_seq2seq.data.batching import pad, padded_length
from keras_seq2seq.data.corpus import Pair
from keras_seq2seq.data.streaming import StreamedCorpus
from keras_seq2seq.errors import ConfigError, ModelFileError, Seq2SeqError, VocabularyError
from keras_seq2seq.models import Seq2Seq
from keras_seq2seq.search.generator import Generator
from keras_seq2seq.search.shortlist import FILE as SHORTLIST_FILE
from keras_seq2seq.search.shortlist import Shortlist
from keras_seq2seq.text.subwords import SentencePieceTokenizer, train_subword_tokenizers
from keras_seq2seq.text.tokenizers import Tokenizer, tokenizer_from_config
from keras_seq2seq.text.vocabulary import Vocabulary

if TYPE_CHECKING:
    from keras_seq2seq.alignment import Alignment

PairLike = Pair | tuple[str, str]


class Translator:
    """A trained sequence-to-sequence model with its tokenisers and vocabularies."""

    def __init__(self, model: Seq2Seq, settings: Settings, source_vocab: Vocabulary,
                 target_vocab: Vocabulary, info: dict | None = None,
                 source_tokenizer: Tokenizer | None = None, target_tokenizer: Tokenizer | None = None):
        self.model = model
        self.settings = settings
        self.source_vocab = source_vocab
        self.target_vocab = target_vocab
        # Trained (subword) tokenisers are passed in; fixed kinds are made from the settings.
        self.source_tokenizer: Tokenizer = source_tokenizer or tokenizer_from_config(settings.text.source_tokenizer)
        self.target_tokenizer: Tokenizer = target_tokenizer or tokenizer_from_config(settings.text.target_tokenizer)
        self.info = info or {}  # data description and training record, saved in config.json
        self._generators: dict[tuple[int, float], Generator] = {}
        # Candidate target words per batch (search/shortlist.py): built by training, used by
        # greedy and beam search once `use_shortlist(size)` is called.
        self.shortlist: Shortlist | None = None
        self.shortlist_size = 0

    def use_shortlist(self, size: int) -> None:
        """Score only `size` candidate target words per batch in greedy and beam search (0: all).

        An approximation for speed (see `search/shortlist.py`); a `size` at or above the target
        vocabulary means the whole vocabulary, as without a shortlist. Sampling, and searches
        with `no_repeat_ngram`, keep scoring every word.
        """
        if size < 0:
            raise ValueError(f"the shortlist size must be 0 (off) or a number of words, got {size}")
        if size and self.shortlist is None:
            raise Seq2SeqError("this model has no vocabulary shortlist (shortlist.json); build one with "
                               "`seq2seq shortlist --model DIR --data TRAIN`")
        self.shortlist_size = 0 if size >= len(self.target_vocab) else size

    # ----------------------------------------------------------------- building and training
    @classmethod
    def create(cls, train: Iterable[PairLike], settings: Settings | None = None,
               preset_name: str | None = None, **overrides) -> "Translator":
        """An untrained translator whose vocabularies are built from `train`."""
        settings = (settings or preset(preset_name)).updated(**overrides)
        if isinstance(train, StreamedCorpus):  # too large to hold: vocabularies from token counts
            scan, text = train.scan(settings), settings.text
            source_vocab = Vocabulary.from_counts(scan.source_counts, text.min_freq, text.max_vocab)
            target_vocab = Vocabulary.from_counts(scan.target_counts, text.min_freq, text.max_vocab)
            return cls._untrained(settings, source_vocab, target_vocab, tokenizer_from_config(text.source_tokenizer),
                                  tokenizer_from_config(text.target_tokenizer))
        pairs = [_as_pair(p) for p in train]
        if not pairs:
            raise ConfigError("no training pairs")
        text = settings.text
        subwords = train_subword_tokenizers(text, [p.source for p in pairs], [p.target for p in pairs])
        for side, tokenizer in subwords.items():  # the settings now name the trained model files
            setattr(text, f"{side}_tokenizer", tokenizer.get_config())
        source_tok = subwords.get("source") or tokenizer_from_config(text.source_tokenizer)
        target_tok = subwords.get("target") or tokenizer_from_config(text.target_tokenizer)
        source_vocab = _build_vocabulary(source_tok, (p.source for p in pairs), text)
        target_vocab = _build_vocabulary(target_tok, (p.target for p in pairs), text)
        return cls._untrained(settings, source_vocab, target_vocab, source_tok, target_tok)

    @classmethod
    def _untrained(cls, settings: Settings, source_vocab: Vocabulary, target_vocab: Vocabulary,
                   source_tok: Tokenizer, target_tok: Tokenizer) -> "Translator":
        keras.utils.set_random_seed(settings.train.seed)
        model = build_model(settings.model, len(source_vocab), len(target_vocab))
        return cls(model, settings, source_vocab, target_vocab, None, source_tok, target_tok)

    @classmethod
    def train(cls, train: Iterable[PairLike], dev: Iterable[PairLike] | None = None,
              preset: str | None = None, out_dir: str | Path | None = None, verbose: int = 1,
              info: dict | None = None, log_dir: str | Path | None = None, resume: bool | None = None,
              **overrides) -> "Translator":
        """Build vocabularies from `train`, then fit; see `fit` for `out_dir`, `log_dir`, `verbose`.

        When `out_dir` holds an unfinished run (a `checkpoint/` left by a killed or diverged
        run), training continues from it with the same data and settings (`resume=None`, or
        `True`, which fails when there is none); `resume=False` discards it and starts over.
        """
        from keras_seq2seq import checkpoint, config
        from keras_seq2seq.distribution import choose_devices

        t = config.preset(preset).updated(**overrides).train
        if t.devices > 1:  # an impossible device count fails before the vocabularies and model are built
            choose_devices(t.devices, t.batch_size)
        streamed = isinstance(train, StreamedCorpus)
        train = train if streamed else [_as_pair(p) for p in train]
        dev = None if dev is None else [_as_pair(p) for p in dev]
        resume_from = None
        if out_dir is not None:
            requested = config.preset(preset).updated(**overrides)
            if streamed:
                train.scan(requested)  # its fingerprint: the checkpoint's data must match
            resume_from = checkpoint.find(Path(out_dir), resume, requested, train, dev)
        translator = resume_from.translator if resume_from else cls.create(train, preset_name=preset, **overrides)
        translator.info.update(info or {})
        translator.fit(train, dev, out_dir=out_dir, verbose=verbose, log_dir=log_dir, resume_from=resume_from)
        return translator

    def fit(self, train: Iterable[PairLike], dev: Iterable[PairLike] | None = None,
            out_dir: str | Path | None = None, verbose: int = 1,
            log_dir: str | Path | None = None, resume_from=None) -> dict:
        """Train with teacher forcing; returns the training record (also kept in `info`).

        With `dev`, the dev set is decoded and scored every epoch (or every `eval_every` steps);
        the best evaluation on `select_on` (dev BLEU by default) is kept, the learning rate is
        lowered on a plateau, and training stops after `patience` evaluations without progress.
        With `out_dir`, the best model so far is saved there at every improvement. With
        `log_dir`, losses, dev scores and the learning rate go to TensorBoard event files.
        A NaN/Inf loss stops training with `TrainingDiverged`, naming where it happened.
        With `out_dir`, the training state also goes to `out_dir/checkpoint/` (every
        `checkpoint_every` steps and at each epoch end) until training ends; `train` resumes
        from it (`resume_from` is the `checkpoint.Checkpoint` it found).
        """
        from keras_seq2seq import checkpoint, training  # keeps `import keras_seq2seq` light
        from keras_seq2seq.distribution import data_parallel

        with data_parallel(self):  # settings.train.devices > 1: batches split across devices
            record = training.fit(self, train if isinstance(train, StreamedCorpus) else [_as_pair(p) for p in train],
                                  None if dev is None else [_as_pair(p) for p in dev],
                                  out_dir=None if out_dir is None else Path(out_dir), verbose=verbose,
                                  log_dir=None if log_dir is None else Path(log_dir), resume_from=resume_from)
            self.info["training"] = record
            self._generators.clear()  # training may have set a new output length limit
            if out_dir is not None:
                self.save(out_dir)
                checkpoint.remove(Path(out_dir))  # finished: nothing to resume
        return record

    # -------------------------------------------------------------------- text ⇄ ids
    def encode_source(self, text: str) -> np.ndarray:
        return np.asarray(self.source_vocab.encode(self.source_tokenizer.tokenize(text)), np.int32)

    def encode_target(self, text: str) -> np.ndarray:
        """Target ids with `<eos>` appended (no `<bos>`: the batcher adds it for teacher forcing)."""
        return np.asarray(self.target_vocab.encode(self.target_tokenizer.tokenize(text), add_eos=True), np.int32)

    def decode_target(self, ids: Sequence[int]) -> str:
        return self.target_tokenizer.detokenize(self.target_vocab.decode(ids))

    # --------------------------------------------------------------------- generation
    @property
    def max_output_len(self) -> int:
        return self.settings.max_output_len or 100

    def generator(self, beam_size: int = 1, length_penalty: float = 0.0,
                  sampling: dict | None = None, no_repeat_ngram: int = 0,
                  return_attention: bool = False, n_best: int = 1) -> Generator:
        """The compiled generator for these search options (kept, so it compiles once); it
        returns `n_best` hypotheses per sentence, and stops searching once they are final."""
        # The shortlist serves greedy and beam search; sampling and n-gram blocking see every word.
        shortlist_size = self.shortlist_size if sampling is None and not no_repeat_ngram else 0
        key = (beam_size, float(length_penalty), tuple(sorted((sampling or {}).items())), no_repeat_ngram,
               return_attention, n_best, shortlist_size)
        if key not in self._generators:
            self._generators[key] = Generator(self.model, self.max_output_len, beam_size,
                                              length_penalty, sampling, no_repeat_ngram=no_repeat_ngram,
                                              return_attention=return_attention, n_best=n_best,
                                              shortlist=self.shortlist, shortlist_size=shortlist_size)
        return self._generators[key]

    def translate(self, texts: Sequence[str], batch_size: int | None = None, beam_size: int = 1,
                  length_penalty: float = 0.0, sampling: dict | None = None, seed: int = 0,
                  no_repeat_ngram: int = 0, replace_unk: bool = False) -> list[str]:
        """One output string per input string, in order: greedy, beam search with `beam_size`,
        or sampling with `sampling={"temperature": 0.8, "top_k": 40, "top_p": 0.9}` and `seed`.
        `no_repeat_ngram=n` (n > 0) forbids any output from repeating one of its own n-grams.
        `replace_unk=True` (attention models) copies, for every `<unk>` output, the source word
        attended to most at that step."""
        best = self.translate_n_best(texts, 1, batch_size, beam_size, length_penalty, sampling, seed,
                                     no_repeat_ngram, replace_unk)
        return [hypotheses[0][0] for hypotheses in best]

    def translate_n_best(self, texts: Sequence[str], n_best: int = 1, batch_size: int | None = None,
                         beam_size: int = 1, length_penalty: float = 0.0, sampling: dict | None = None,
                         seed: int = 0, no_repeat_ngram: int = 0,
                         replace_unk: bool = False) -> list[list[tuple[str, float]]]:
        """For every input, its `n_best` outputs as `(text, score)`, best first.

        Scores are summed log-probabilities (divided by GNMT's length penalty when
        `length_penalty` alpha > 0). `n_best` can be at most `beam_size`. Inputs are decoded in
        length-sorted, full-size batches: one compiled program per padded length. With
        `replace_unk`, unknown words are copied from the source (see `translate`).
        """
        if isinstance(texts, str):
            raise TypeError("translate() takes a list of strings; wrap a single string in a list")
        if not 1 <= n_best <= beam_size:
            raise ValueError(f"n_best must be between 1 and beam_size ({beam_size}), got {n_best}")
        if replace_unk:
            from keras_seq2seq.alignment import n_best_alignments

            found = n_best_alignments(self, texts, n_best, batch_size, beam_size, length_penalty,
                                      sampling, seed, no_repeat_ngram, replace_unk=True)
            return [[(a.text, a.score) for a in hypotheses] for hypotheses in found]
        generator = self.generator(beam_size, length_penalty, sampling, no_repeat_ngram, n_best=n_best)
        outputs: list[list[tuple[str, float]]] = [[] for _ in texts]
        for i, (ids, scores) in self.generate_rows(texts, generator, batch_size, seed):
            outputs[i] = [(self.decode_target(ids[n].tolist()), float(scores[n])) for n in range(n_best)]
        return outputs

    def generate_rows(self, texts: Sequence[str], generator: Generator, batch_size: int | None = None,
                      seed: int = 0) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        """Run `generator` over `texts`; yields `(index into texts, that text's arrays)`.

        The arrays are the generator's outputs for one sentence: `ids hypotheses x max_length`,
        `scores hypotheses` (and `attention hypotheses x max_length x src_len` if it collects
        attention). Texts are decoded in length-sorted batches padded to a few lengths and row
        counts (`shapes.decode_rows`: a lone sentence is one row), so each shape compiles once;
        yields come in that order, not the input order.
        """
        from keras_seq2seq.shapes import decode_rows
        batch_size = batch_size or self.settings.train.batch_size
        step = self.settings.train.length_step
        encoded = [self.encode_source(t) for t in texts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            length = padded_length(max([len(encoded[i]) for i in rows] + [1]), step)
            arrays = generator.generate(pad([encoded[i] for i in rows], length, decode_rows(len(rows), batch_size)),
                                        seed=seed + start)
            for row, i in enumerate(rows):
                yield i, tuple(a[row] for a in arrays)

    def align(self, texts: Sequence[str], beam_size: int = 1, length_penalty: float = 0.0,
              batch_size: int | None = None, replace_unk: bool = False, sampling: dict | None = None,
              seed: int = 0, no_repeat_ngram: int = 0) -> list["Alignment"]:
        """For every text, its best output with the attention that wrote it (attention models).

        Returns one `alignment.Alignment` per text: `.source_tokens`, `.target_tokens` (ending
        with `<eos>` when produced), `.weights` (`target x source` numpy array, rows sum to 1)
        and `.text` (equal to `translate`'s output for the same options).
        """
        from keras_seq2seq.alignment import align

        return align(self, texts, beam_size, length_penalty, batch_size, replace_unk, sampling, seed,
                     no_repeat_ngram)

    def evaluate(self, pairs: Iterable[PairLike], batch_size: int | None = None, beam_size: int = 1,
                 length_penalty: float = 0.0, replace_unk: bool = False) -> dict:
        """Scores on `pairs`, plus the outputs themselves under `"hypotheses"`."""
        pairs = [_as_pair(p) for p in pairs]
        if not pairs:
            raise Seq2SeqError("nothing to evaluate: no (source, target) pairs")
        started = time.perf_counter()
        hypotheses = self.translate([p.source for p in pairs], batch_size, beam_size, length_penalty,
                                    replace_unk=replace_unk)
        seconds = time.perf_counter() - started
        references = [p.target for p in pairs]
        scores = metrics.score(hypotheses, references, self.target_tokenizer.tokenize)
        return {**scores, "sentences": len(pairs), "seconds": seconds,
                "sentences_per_second": len(pairs) / max(seconds, 1e-9), "hypotheses": hypotheses}

    # ---------------------------------------------------------------------- save / load
    def save(self, directory: str | Path) -> None:
        """Write the model directory (each file atomically; `config.json` last)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        subword_models = {t.model_file: t for t in (self.source_tokenizer, self.target_tokenizer)
                          if isinstance(t, SentencePieceTokenizer)}
        for tokenizer in subword_models.values():  # one file when the vocabulary is joint
            tokenizer.save(directory)
        self.source_vocab.save(directory / artifacts.SOURCE_VOCAB_FILE)
        self.target_vocab.save(directory / artifacts.TARGET_VOCAB_FILE)
        if self.shortlist is not None:
            self.shortlist.save(directory)
        else:  # a stale one from an earlier run into this directory must not be loaded with this model
            (directory / SHORTLIST_FILE).unlink(missing_ok=True)
        artifacts.save_keras_model(self.model, directory)
        artifacts.write_config(directory, self._config())

    def save_weights_only(self, directory: Path) -> None:
        """Checkpoint during training: the model file, then the config (vocabularies are fixed)."""
        artifacts.save_keras_model(self.model, directory)
        artifacts.write_config(directory, self._config())

    def _config(self) -> dict:
        return {
            "versions": _versions(),
            "settings": self.settings.to_dict(),
            "source_vocab_size": len(self.source_vocab),
            "target_vocab_size": len(self.target_vocab),
            **self.info,
        }

    @classmethod
    def load(cls, directory: str | Path) -> "Translator":
        """Load a model directory written by `save`; clear `ModelFileError`s for anything wrong."""
        directory = Path(directory)
        config = artifacts.read_config(directory)
        try:
            settings = Settings.from_dict(config.get("settings", {}))
            source_vocab = Vocabulary.load(directory / artifacts.SOURCE_VOCAB_FILE)
            target_vocab = Vocabulary.load(directory / artifacts.TARGET_VOCAB_FILE)
            source_tok = tokenizer_from_config(settings.text.source_tokenizer, directory)
            target_tok = tokenizer_from_config(settings.text.target_tokenizer, directory)
        except (ConfigError, VocabularyError) as error:
            raise ModelFileError(f"{directory}: {error}") from None
        _check_subwords(directory, source_tok, source_vocab, artifacts.SOURCE_VOCAB_FILE)
        _check_subwords(directory, target_tok, target_vocab, artifacts.TARGET_VOCAB_FILE)
        model = artifacts.load_keras_model(directory)
        if not isinstance(model, MODEL_CLASSES):
            raise ModelFileError(f"{directory / artifacts.MODEL_FILE}: holds a {type(model).__name__}, not a "
                                 f"Seq2Seq or Transformer model")
        if (model.source_vocab_size, model.target_vocab_size) != (len(source_vocab), len(target_vocab)):
            raise ModelFileError(
                f"{directory}: the vocabularies ({len(source_vocab)}/{len(target_vocab)} tokens) do not "
                f"match the model ({model.source_vocab_size}/{model.target_vocab_size}); files from different runs?"
            )
        info = {k: v for k, v in config.items()
                if k not in ("format", "format_version", "versions", "settings",
                             "source_vocab_size", "target_vocab_size")}
        # Devices belong to a training run, not to the model (its record keeps the count): a
        # loaded model fits on one device, wherever it was trained, unless told otherwise.
        settings.train.devices = 1
        translator = cls(model, settings, source_vocab, target_vocab, info, source_tok, target_tok)
        try:
            translator.shortlist = Shortlist.load(directory, len(source_vocab), len(target_vocab))
        except Seq2SeqError as error:
            raise ModelFileError(str(error)) from None
        return translator


def _build_vocabulary(tokenizer: Tokenizer, texts: Iterable[str], text) -> Vocabulary:
    """Subword pieces are the vocabulary, in SentencePiece's id order; other kinds count tokens."""
    if isinstance(tokenizer, SentencePieceTokenizer):
        return Vocabulary(tokenizer.pieces)
    return Vocabulary.build((tokenizer.tokenize(t) for t in texts), min_freq=text.min_freq,
                            max_size=text.max_vocab)


def _check_subwords(directory: Path, tokenizer: Tokenizer, vocab: Vocabulary, vocab_file: str) -> None:
    """A SentencePiece model and its vocabulary must agree piece for piece (ids are shared)."""
    if isinstance(tokenizer, SentencePieceTokenizer) and tokenizer.pieces != vocab.tokens:
        raise ModelFileError(f"{directory / tokenizer.model_file}: its pieces do not match {vocab_file}; "
                             f"files from different runs?")


def _as_pair(item: PairLike) -> Pair:
    if isinstance(item, Pair):
        return item
    try:
        source, target = item
    except (TypeError, ValueError):
        raise Seq2SeqError(f"expected a (source, target) pair, got {item!r}") from None
    return Pair(str(source), str(target))


def _versions() -> dict:
    from keras_seq2seq import __version__

    return {"keras_seq2seq": __version__, "keras": keras.__version__, "backend": keras.backend.backend()}

