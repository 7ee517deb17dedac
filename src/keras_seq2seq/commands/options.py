"""Options several sub-commands share, and the checks that turn them into values.

Value types (`whole_number`, `positive_int`, `number`) make argparse refuse a bad value with a
message naming the flag. The data options (`--task`/`--data`, formats, columns) and the search
options (`--beam-size`, `--length-penalty`, sampling, ...) are added the same way everywhere, and
`search_options` turns the latter into one checked `SearchOptions`, naming the flag at fault.
Nothing here imports Keras: `seq2seq --help` stays fast.
"""

from __future__ import annotations

import argparse
import re
import sys

from keras_seq2seq.data.corpus import FORMATS
from keras_seq2seq.errors import Seq2SeqError

TASK_NAMES = ("dates", "numbers", "reverse")


# ------------------------------------------------------------------------------ help


class Parser(argparse.ArgumentParser):
    """argparse, with a bad value named as the flag and what is wrong with it:
    `--learning-rate must be > 0, got -1` rather than `argument --learning-rate: must be ...`."""

    def error(self, message: str):
        match = re.fullmatch(r"argument ([^:]+): (must .*|expected .*)", message, re.DOTALL)
        super().error(f"{match.group(1)} {match.group(2)}" if match else message)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default only when there is one to show: never `(default: None)`, nor
    `(default: False)` for a switch; an option whose help says its default already keeps it."""

    def _get_help_string(self, action):
        text = action.help or ""
        note = getattr(action, "default_note", None)  # e.g. "from the preset: 20 (tatoeba-word), ..."
        if note:
            return f"{text} (default: {note})"
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


# ------------------------------------------------------------------------------ value types


def whole_number(minimum: int):
    """An argparse type: an int of at least `minimum`, with a message saying what was wrong."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = whole_number(1)


def number(positive: bool):
    """An argparse type: a finite number >= 0, or > 0 when `positive`."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value > 0 if positive else value >= 0) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be {'>' if positive else '>='} 0, got {text}")
        return value

    return parse


def interval(low: float, high: float, low_open: bool = False, high_open: bool = False):
    """An argparse type: a number in an interval, e.g. `interval(0, 1, high_open=True)` for
    [0, 1), with the interval in the message: "must be in [0, 1), got 2"."""
    span = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not ((low < value if low_open else low <= value) and (value < high if high_open else value <= high)):
            raise argparse.ArgumentTypeError(f"must be in {span}, got {text}")
        return value

    return parse


# ------------------------------------------------------------------------------ data


def add_data_options(parser, required: bool) -> None:
    """`--task` or `--data` (with format, language and column options) for a corpus to read."""
    group = parser.add_argument_group("data (give --task or --data)")
    group.add_argument("--task", choices=TASK_NAMES, help="a built-in generated task")
    group.add_argument("--data", metavar="FILE", required=required,
                       help="parallel corpus: TSV or CSV (source first), a Tatoeba/Anki file, or the "
                            "source side of two aligned files (with --target-data)")
    group.add_argument("--target-data", metavar="FILE", help="target side of aligned plain-text files")
    group.add_argument("--format", choices=FORMATS,
                       help="corpus format (default: auto: aligned with --target-data, csv by suffix, anki "
                            "with --source-lang or when the third column is a Tatoeba attribution, else tsv)")
    group.add_argument("--source-lang", metavar="CODE",
                       help="Tatoeba/Anki files (English first): the source language, e.g. spa "
                            "(Spanish→English) or eng (English→the other language)")
    group.add_argument("--source-column", type=whole_number(0), help="0-based source column (TSV/CSV; default 0)")
    group.add_argument("--target-column", type=whole_number(0), help="0-based target column (TSV/CSV; default 1)")
    group.add_argument("--skip-bad-lines", action="store_true",
                       help="skip malformed lines (and report how many) instead of stopping")


READING_OPTIONS = ("format", "source_lang", "source_column", "target_column")


def read_options(args, model_info: dict | None = None) -> dict:
    """The corpus reader's options from `add_data_options`' flags. With none of the reading flags
    given and a model's `info`, its training data's reading (so test data reads as training did,
    whatever default a model was trained under)."""
    given = {name: getattr(args, name, None) for name in READING_OPTIONS}
    if model_info is not None and all(value is None for value in given.values()):
        given = model_reading(model_info)
    return dict(format=given["format"] or "auto", source_lang=given["source_lang"],
                source_column=given["source_column"], target_column=given["target_column"],
                skip_bad_lines=args.skip_bad_lines)


def model_reading(info: dict) -> dict:
    """How a model's training corpus was read, as reading options (none for a task's model).

    Models record `format`, `source_lang` and the columns under `info["data"]`; before source-first
    became the default they recorded columns 1 -> 0 for a plain TSV, which is kept."""
    data = info.get("data") or {}
    reading = dict.fromkeys(READING_OPTIONS)
    if "file" not in data:
        return reading
    if data.get("format") == "anki" or data.get("source_lang"):
        reading.update(format="anki", source_lang=data.get("source_lang"))
    elif data.get("format") != "aligned" and "source_column" in data:
        reading.update(source_column=data["source_column"], target_column=data.get("target_column"))
    return reading


def describe_reading(reading: dict) -> str:
    """`column 1 -> column 0 (tsv)` or the like, for messages."""
    if reading.get("format") == "aligned":
        return "two aligned files"
    lang = f", --source-lang {reading['source_lang']}" if reading.get("source_lang") else ""
    return (f"column {reading.get('source_column')} → column {reading.get('target_column')} "
            f"({reading.get('format')}{lang})")


def read_pairs(args, path: str, target_path: str | None = None, model_info: dict | None = None,
               report=None) -> list:
    """The pairs of `path` read with the data options; a summary (and skipped lines) on stderr."""
    from keras_seq2seq.data.corpus import ReadReport, read_corpus

    options = read_options(args, model_info)
    report = report if report is not None else ReadReport()
    pairs = list(read_corpus(path, target_path=target_path, report=report, **options))
    print(f"{path}: {report.summary()}; {describe_reading(report.reading)}", file=sys.stderr)
    if model_info is not None and options != read_options(args):
        print("  read as the model's training data was read; the reading flags choose otherwise", file=sys.stderr)
    for note in report.notes:
        print(f"  {note}", file=sys.stderr)
    for message in report.first_skipped:
        print(f"  skipped: {message}", file=sys.stderr)
    return pairs


def task_data(name: str, size: int, seed: int) -> dict:
    """A built-in task's splits: `size` training pairs, 1,000 for dev and for test."""
    from keras_seq2seq.data.tasks import task_splits

    return task_splits(name, train=size, dev=1000, test=1000, seed=seed)


def task_or_data_pairs(args, translator, split: str) -> list:
    """The pairs of `--task` (its `split`, made as at training time) or of `--data`."""
    if bool(args.task) == bool(args.data):
        raise Seq2SeqError("give exactly one of --task NAME or --data FILE")
    if args.task:
        # The same train size and seed as in training, so the splits are the ones it used.
        size = translator.info.get("data", {}).get("train_pairs", 20000)
        return task_data(args.task, size, translator.settings.train.seed)[split]
    return read_pairs(args, args.data, args.target_data, model_info=translator.info)


# ------------------------------------------------------------------------------ search


def add_search_options(parser) -> None:
    """Beam size, length penalty, unknown-word replacement and the shortlist."""
    group = parser.add_argument_group("search")
    group.add_argument("--beam-size", type=positive_int, default=1,
                       help="hypotheses kept per sentence; 1 is greedy search")
    group.add_argument("--length-penalty", type=float, default=0.0, metavar="ALPHA",
                       help="GNMT length penalty for beam search; 0 ranks by raw log-probability")
    group.add_argument("--replace-unk", action="store_true",
                       help="attention models: replace each <unk> in the output by the source "
                            "token attended to most at that step")
    group.add_argument("--shortlist", type=whole_number(0), default=0, metavar="SIZE",
                       help="greedy/beam search score only SIZE likely target words per batch "
                            "(faster, approximate; e.g. 2048; 0: the whole vocabulary)")


def add_sampling_options(parser, title: str, temperature: float, top_p: float, seed_help: str) -> None:
    """`--sample --temperature --top-k --top-p --seed` in a group `title`, with these defaults."""
    group = parser.add_argument_group(title)
    group.add_argument("--sample", action="store_true", help="draw each token from the model's distribution")
    group.add_argument("--temperature", type=float, default=temperature, help="below 1 sharpens, above 1 flattens")
    group.add_argument("--top-k", type=int, default=0, help="draw from the K most likely tokens only (0: all)")
    group.add_argument("--top-p", type=float, default=top_p,
                       help="draw from the smallest set holding this much probability")
    group.add_argument("--seed", type=int, default=0, help=seed_help)


def search_options(args, one: str = "output per input"):
    """The `SearchOptions` of the parsed flags (those the command has), checked; `one` names
    what a draw gives ("output per input", "reply") in the message for a beam with --sample."""
    from keras_seq2seq.search.options import InvalidOption, Sampling, SearchOptions

    sample = getattr(args, "sample", False)
    if sample and args.beam_size != 1:
        raise Seq2SeqError(f"--sample draws one {one}; leave --beam-size at 1")
    try:
        sampling = Sampling(args.temperature, args.top_k, args.top_p) if sample else None
        return SearchOptions(beam_size=args.beam_size, n_best=getattr(args, "n_best", 1),
                             length_penalty=getattr(args, "length_penalty", 0.0), sampling=sampling,
                             seed=getattr(args, "seed", 0) or 0, no_repeat_ngram=getattr(args, "no_repeat_ngram", 0),
                             shortlist=getattr(args, "shortlist", 0), replace_unk=getattr(args, "replace_unk", False))
    except InvalidOption as error:
        problem = re.sub(r"\b(beam_size|n_best|sampling|no_repeat_ngram|top_p|top_k|length_penalty)\b",
                         lambda name: flag(name.group(1)), error.problem)
        raise Seq2SeqError(f"{flag(error.field)} {problem}") from None


def add_mmi_options(parser) -> None:
    """`--mmi-model DIR --mmi-weight W`: rerank the beam's candidates with a reverse model."""
    group = parser.add_argument_group("dialogue: fewer generic replies (maximum mutual information, Li et al. 2016)")
    group.add_argument("--mmi-model", metavar="DIR",
                       help="a reverse model (trained on reply -> previous turn) that reranks the beam's "
                            "--beam-size candidates by log p(reply | context) + W * log p(previous turn | reply)")
    group.add_argument("--mmi-weight", type=number(positive=False), default=0.5, metavar="W",
                       help="how much the reverse model's score counts")
    group.add_argument("--draws", type=positive_int, default=1, metavar="K",
                       help="with --sample: draw K replies per context and keep the best (by --mmi-model's "
                            "score when given, else the likeliest)")


def check_mmi(args) -> None:
    """Refuse `--mmi-model` and `--draws` flags that cannot work, before anything loads."""
    sample, draws = getattr(args, "sample", False), getattr(args, "draws", 1)
    if draws > 1 and not sample:
        raise Seq2SeqError(f"--draws {draws} draws sampled replies: add --sample (a beam gives its --beam-size "
                           "candidates)")
    if getattr(args, "mmi_model", None) and not sample and args.beam_size < 2:
        raise Seq2SeqError("--mmi-model reranks candidates: give --beam-size 2 or more (e.g. 10), or --sample "
                           "with --draws 2 or more")
    if getattr(args, "mmi_model", None) and sample and draws < 2:
        raise Seq2SeqError("--mmi-model with --sample reranks several sampled replies: give --draws 2 or more "
                           "(e.g. 10)")


def mmi_reranker(args, batch_size: int = 64):
    """The `reranking.MmiReranker` the flags ask for, or None; checked before anything loads."""
    check_mmi(args)
    if not getattr(args, "mmi_model", None):
        return None
    from keras_seq2seq.artifacts import load_bundle
    from keras_seq2seq.reranking import MmiReranker

    return MmiReranker(load_bundle(args.mmi_model), args.mmi_weight, batch_size)


def flag(field: str) -> str:
    """The command-line flag of a search option (`top_p` -> `--top-p`, `sampling` -> `--sample`)."""
    return "--sample" if field == "sampling" else "--" + field.replace("_", "-")
