"""`seq2seq train`: train a model on a corpus or a built-in task, into a model directory.

    seq2seq train --task dates --out runs/dates
    seq2seq train --data ../shared/data/spa-eng/train.tsv --dev ../shared/data/spa-eng/dev.tsv \
        --source-lang spa --preset tatoeba-small --out runs/spa-eng
    seq2seq train --config run.yaml --epochs 5 --out runs/try   # the file's options, two changed

Unset options come from `--config FILE` (`commands/config.py`), then from the preset (the task's
own with --task, else `tatoeba-word`). The settings are resolved here, once, and checked before
any data is read; an unfinished run in --out is resumed, a finished model there is kept unless
`--overwrite`. At the end the model directory holds `train.yaml` (these options, effective) and
`README.md` (its model card), besides the model.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shlex
import sys
import time
from pathlib import Path

from keras_seq2seq.commands.architecture_options import add_architecture_options, check_architecture_options
from keras_seq2seq.commands.options import (add_data_options, interval, number, positive_int, read_options,
                                            read_pairs, task_data, whole_number)
from keras_seq2seq.config import (ATTENTION_KINDS, CELLS, LR_SCHEDULES, PRECISIONS, PRESETS, SELECT_ON,
                                  SUBWORD_MODELS, TOKENIZER_KINDS, preset)
from keras_seq2seq.data.dialogue import context_turns_of
from keras_seq2seq.errors import ConfigError, Seq2SeqError
from keras_seq2seq.run_config import NO_CONVERSION, NO_NORMALIZATION, SETTING_OPTIONS, TOKENIZER_OPTIONS
from keras_seq2seq.text.scripts import CONVERSIONS

DEFAULT_PRESET = "tatoeba-word"
NORMALIZATIONS = ("NFC", "NFKC", "NFD", "NFKD", NO_NORMALIZATION)


def register(commands, command) -> None:
    train = command(commands, "train", run, "train a model on a corpus or a built-in task")
    train.add_argument("--config", metavar="FILE",
                       help="YAML file of options by name (learning_rate: 0.002); flags given here win "
                            "(docs/training.md; `seq2seq config` prints one)")
    add_data_options(train, required=False)
    train.add_argument("--dev", metavar="FILE", help="dev corpus (same format as --data); "
                       "default: hold out --dev-size pairs of the training data")
    train.add_argument("--dev-size", type=positive_int, default=1000,
                       help="pairs held out for dev when --dev is not given")
    train.add_argument("--test", metavar="FILE",
                       help="test corpus (same format as --data), scored once trained for the model card")
    train.add_argument("--out", metavar="DIR", help="model directory to write (required)")
    train.add_argument("--overwrite", action="store_true",
                       help="train into --out even though it holds a finished model (replaced at the end)")
    train.add_argument("--preset", choices=sorted(PRESETS),
                       help=f"named settings to start from (default: the task's own preset with "
                            f"--task, else '{DEFAULT_PRESET}')")
    group = train.add_argument_group("text")
    group.add_argument("--tokenizer", choices=TOKENIZER_KINDS,
                       help="tokeniser for both sides (sentencepiece: subwords learnt from the training data)")
    group.add_argument("--source-tokenizer", choices=TOKENIZER_KINDS, help="tokeniser for the source")
    group.add_argument("--target-tokenizer", choices=TOKENIZER_KINDS, help="tokeniser for the target")
    group.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=None,
                       help="lowercase both sides")
    group.add_argument("--normalize", choices=NORMALIZATIONS, help="Unicode normalisation of both sides")
    for side in ("source", "target"):
        group.add_argument(f"--{side}-convert", choices=(*CONVERSIONS, NO_CONVERSION),
                           help=f"Chinese script conversion of the {side} (OpenCC; t2s: Traditional to "
                                f"Simplified; {NO_CONVERSION}: off; needs keras-seq2seq[zh])")
    group.add_argument("--min-freq", type=positive_int, help="tokens seen fewer times become <unk>")
    group.add_argument("--max-vocab", type=whole_number(0), help="largest vocabulary per side (0: no limit)")
    group.add_argument("--vocab-size", type=whole_number(5),
                       help="sentencepiece: pieces per model, the 4 reserved included (an upper bound)")
    group.add_argument("--subword-model", choices=SUBWORD_MODELS, help="sentencepiece: the subword algorithm")
    group.add_argument("--joint-vocab", action=argparse.BooleanOptionalAction, default=None,
                       help="sentencepiece: one model and vocabulary shared by source and target")
    group = train.add_argument_group("model")
    group.add_argument("--cell", choices=CELLS, help="recurrent cell")
    group.add_argument("--embedding-dim", type=positive_int, help="embedding size")
    group.add_argument("--units", type=positive_int, help="hidden size (rnn: recurrent units; transformer: the model size)")
    group.add_argument("--layers", type=positive_int, help="stacked layers on each side (transformer: encoder blocks)")
    group.add_argument("--dropout", type=interval(0, 1, high_open=True), help="dropout rate")
    group.add_argument("--attention", choices=ATTENTION_KINDS,
                       help="attention over the source, with input feeding (none: the plain model)")
    group.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None,
                       help="bidirectional encoder (units/2 per direction)")
    group.add_argument("--bridge", action=argparse.BooleanOptionalAction, default=None,
                       help="learnt dense map from encoder final states to decoder states")
    group.add_argument("--tie-embeddings", action=argparse.BooleanOptionalAction, default=None,
                       help="the output layer reuses the target embeddings (transposed)")
    group.add_argument("--scaled-attention", action=argparse.BooleanOptionalAction, default=None,
                       help="divide Luong attention scores by sqrt(units)")
    group.add_argument("--param-init", type=number(positive=False), metavar="SCALE",
                       help="start every weight uniform in [-SCALE, SCALE] (0: Keras' per-layer initialisers)")
    group.add_argument("--precision", choices=PRECISIONS,
                       help="float32, or mixed 16-bit compute with float32 weights (for GPUs/TPUs)")
    add_architecture_options(train)
    group = train.add_argument_group("training")
    group.add_argument("--epochs", type=positive_int, help="most epochs to train")
    group.add_argument("--batch-size", type=positive_int, help="sentences per batch; given without --batch-tokens, it also turns a preset's token batches off")
    group.add_argument("--batch-tokens", type=whole_number(0), metavar="N",
                       help="batches of about N target tokens (rows x padded length), cut from the corpus "
                            "sorted by length, instead of --batch-size sentences (0: off)")
    group.add_argument("--length-step", type=positive_int, metavar="N",
                       help="pad source lengths to multiples of N, targets of N/2: smaller N, less "
                            "padding but more compiled shapes")
    group.add_argument("--learning-rate", type=number(positive=True), help="Adam learning rate")
    group.add_argument("--min-learning-rate", type=number(positive=True),
                       help="a plateau never lowers the learning rate below this")
    group.add_argument("--clipnorm", type=number(positive=False), help="global gradient-norm clip (0: off)")
    group.add_argument("--patience", type=whole_number(0),
                       help="dev evaluations without improvement before stopping (0: never)")
    group.add_argument("--select-on", choices=SELECT_ON,
                       help="dev score that picks the best checkpoint and drives early stopping "
                            "(bleu/chrf decode the dev set greedily at each evaluation)")
    group.add_argument("--eval-every", type=whole_number(0), metavar="STEPS",
                       help="decode and score dev every STEPS batches (0: at the end of each epoch)")
    group.add_argument("--warmup-steps", type=whole_number(0),
                       help="raise the learning rate linearly over these first steps")
    group.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                       help="after warm-up: constant, or inverse-sqrt (falls as 1/sqrt(step); needs --warmup-steps)")
    group.add_argument("--plateau-patience", type=whole_number(0),
                       help="dev evaluations without improvement before the learning rate is lowered (0: never)")
    group.add_argument("--plateau-factor", type=interval(0, 1, low_open=True, high_open=True),
                       help="factor applied to the learning rate on a plateau")
    group.add_argument("--label-smoothing", type=interval(0, 1, high_open=True),
                       help="label smoothing of the cross-entropy")
    group.add_argument("--max-minutes", type=number(positive=False),
                       help="stop training after this much wall time (0: no limit)")
    group.add_argument("--max-len", type=whole_number(0), help="sets both --max-source-len and --max-target-len")
    group.add_argument("--max-source-len", type=whole_number(0),
                       help="drop training pairs whose source is longer than this many tokens (0: no limit)")
    group.add_argument("--max-target-len", type=whole_number(0),
                       help="drop training pairs whose target is longer than this many tokens (0: no limit)")
    group.add_argument("--max-output-len", type=whole_number(0),
                       help="longest output in tokens when decoding (0: 1.5 x the longest training target)")
    group.add_argument("--seed", type=int, help="random seed; the same seed repeats a run")
    group.add_argument("--devices", type=positive_int, metavar="N",
                       help="data-parallel training on N devices (JAX): each batch is split across them; "
                            "--batch-size must be a multiple of N")
    train.add_argument("--task-size", type=positive_int, default=20000, help="training pairs generated with --task")
    group = train.add_argument_group("large corpora")
    group.add_argument("--stream", action="store_true",
                       help="read --data as a stream, one shuffle buffer at a time, instead of loading it "
                            "(memory stays flat as the corpus grows; needs --dev; word or char tokenizers)")
    group.add_argument("--shuffle-buffer", type=positive_int, metavar="PAIRS",
                       help="with --stream: pairs held, length-sorted and shuffled together (default 100,000)")
    group = train.add_argument_group("progress and logs")
    group.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")
    group.add_argument("--log-file", metavar="FILE",
                       help="append the progress as plain lines to FILE (as printed when stderr is not a terminal)")
    group.add_argument("--log-every", type=whole_number(0), default=0, metavar="STEPS",
                       help="plain progress: a line every STEPS batches, with an ETA (0: one per epoch)")
    group.add_argument("--tensorboard", metavar="DIR",
                       help="write losses, dev scores and the learning rate for TensorBoard to DIR")
    group = train.add_argument_group("resuming (an unfinished run in --out is resumed by default)")
    group.add_argument("--checkpoint-every", type=whole_number(0), metavar="STEPS",
                       help="save the training state to OUT/checkpoint every STEPS batches, besides each "
                            "epoch end (0: epoch ends only)")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument("--resume", dest="resume", action="store_const", const=True, default=None,
                        help="continue the unfinished run in --out; fail if there is none")
    choice.add_argument("--restart", "--no-resume", dest="resume", action="store_const", const=False,
                        help="discard an unfinished run's checkpoint in --out and start over")
    for action in train._actions:
        if action.dest in SETTING_OPTIONS or (action.dest in TOKENIZER_OPTIONS and action.dest != "tokenizer"):
            action.default_note = preset_defaults(action.dest)


def preset_defaults(option: str) -> str:
    """What `--help` says of a setting's default: its value, or each preset's, the default first."""
    from keras_seq2seq.run_config import options_of

    names = [DEFAULT_PRESET] + sorted(set(PRESETS) - {DEFAULT_PRESET})
    values: dict[str, list[str]] = {}
    for name in names:
        value = options_of(preset(name))[option]
        values.setdefault("none" if value is None else str(value).lower() if isinstance(value, bool)
                          else str(value), []).append(name)
    if len(values) == 1:
        return next(iter(values))
    return "from the preset: " + ", ".join(f"{value} ({', '.join(presets)})" for value, presets in values.items())


def run(args) -> int:
    from keras_seq2seq.commands.config_file import apply_config_file

    if args.config:
        args = apply_config_file(args)
    settings, preset_name = check(args)  # every value, before any data is read
    log = open(args.log_file, "a", encoding="utf-8") if args.log_file else None  # noqa: SIM115
    try:
        return train_and_report(args, settings, preset_name, log)
    finally:
        if log is not None:
            log.close()


def check(args):
    """The run's `Settings` and preset name, once every option is known to be usable."""
    from keras_seq2seq.config import resolve
    from keras_seq2seq.run_config import apply
    from keras_seq2seq.training.checkpoint import finished_model

    if bool(args.task) == bool(args.data):
        raise Seq2SeqError("give exactly one of --task NAME or --data FILE")
    if args.task and args.test:
        raise Seq2SeqError("--test FILE scores a corpus; a task's model is scored on the task's own test split "
                           "by `seq2seq evaluate --model DIR --task NAME`")
    if not args.out:
        raise Seq2SeqError("--out DIR is required: the model directory to write (or `out:` in --config)")
    if args.stream and not (args.data and args.dev):
        raise Seq2SeqError("--stream reads --data FILE as it trains and never holds it, so no dev set can be "
                           "held out of it: give --dev FILE too (e.g. a few thousand lines set apart with "
                           "shuf and head)")
    preset_name = args.preset or args.task or DEFAULT_PRESET
    try:
        settings = apply(resolve(preset_name), vars(args))
    except ConfigError as error:
        raise ConfigError(flag_names(str(error))) from None
    check_architecture_options(args, settings.model, resolve(preset_name).model)
    if args.stream and settings.train.batch_tokens and args.batch_tokens is None:
        settings = apply(settings, {"batch_tokens": 0})  # the preset's token batches: sentence batches instead
    if args.stream and settings.train.batch_tokens:
        raise Seq2SeqError("--batch-tokens plans an epoch from every pair's length before it starts, and a "
                           "stream is never held: use --batch-size with --stream, or train without --stream")
    if settings.train.batch_size % settings.train.devices:  # dev batches split across them too
        raise Seq2SeqError(f"--devices {settings.train.devices}: each batch is split evenly across the devices, "
                           f"so --batch-size must be a multiple of it, got {settings.train.batch_size}")
    for flag, path in (("--data", args.data), ("--target-data", args.target_data), ("--dev", args.dev),
                       ("--test", args.test)):
        if path and not Path(path).is_file():
            raise Seq2SeqError(f"{flag} {path}: no such file")
    from keras_seq2seq.extras import require

    if args.tensorboard:
        require("tensorboard", "--tensorboard")
    for side in ("source", "target"):
        tokenizer = getattr(settings.text, f"{side}_tokenizer")
        if tokenizer.get("kind") == "jieba" or tokenizer.get("convert"):
            require("zh", f"the {side} tokenizer ({tokenizer.get('kind')}"
                          + (f", convert {tokenizer['convert']})" if tokenizer.get("convert") else ")"))
    if finished_model(args.out) and not args.overwrite:
        raise Seq2SeqError(f"{args.out} holds a finished model (a config.json, and no unfinished run to "
                           f"resume): pass --overwrite to train a new one in its place, or choose another --out")
    return settings, preset_name


def flag_names(message: str) -> str:
    """A settings message in the command line's words: `learning_rate must ...` -> `--learning-rate must ...`."""
    fields = {field: option for option, (_, field) in SETTING_OPTIONS.items()}
    return re.sub(r"^(" + "|".join(sorted(fields, key=len, reverse=True)) + r")\b",
                  lambda match: "--" + fields[match.group(1)].replace("_", "-"), message)


def command_line(args) -> str:
    """The command as typed (for the model card), or as `seq2seq train` with the given options."""
    argv = getattr(args, "argv", None)
    return "seq2seq " + shlex.join(argv if argv is not None else sys.argv[1:])


def train_and_report(args, settings, preset_name: str, log) -> int:
    """Read the data, train, score --test, and say what was saved (stderr; the log file too)."""
    from keras_seq2seq.data.download import licence_note
    from keras_seq2seq.run_config import RUN_OPTIONS
    from keras_seq2seq.training.progress import ProgressLines
    from keras_seq2seq.translator import Translator

    lines = ProgressLines([log] if log else [])
    lines.line(f"started: {command_line(args)}")
    seed = settings.train.seed
    run_record = {key: getattr(args, key, None) for key in RUN_OPTIONS}
    run_record["preset"] = preset_name
    if args.task or args.dev:
        run_record["dev_size"] = None  # only a held-out dev set has a size to choose
    if not args.task:
        run_record["task_size"] = None
    if args.task:
        splits = task_data(args.task, args.task_size, seed)
        train, dev = splits["train"], splits["dev"]
        data = {"task": args.task, "train_pairs": len(train)}
    else:
        train, reading, files = _training_pairs(args, settings)
        as_trained = {"data": {"file": args.data, **reading}}  # dev and test are read the same way
        if args.dev:
            dev = read_pairs(args, args.dev, model_info=as_trained, report=_report(files, "dev", args.dev))
            _counted(files)
        else:
            random.Random(seed).shuffle(train)
            held = min(args.dev_size, len(train) // 10)
            dev, train = train[:held], train[held:]
        data = {"file": str(args.data), **reading, "files": files,
                **({"shuffle_buffer": train.shuffle_buffer} if args.stream else {}),
                **({"licence": note} if (note := licence_note(Path(args.data).parent)) else {})}
        if not args.stream:  # pairs from prepare-dialogue: chat and evaluate read the context length
            turns = context_turns_of([pair.source for pair in train])
            if turns:
                data["dialogue"] = {"context_turns": turns}
        # An anki file's direction is its source language; a TSV's or CSV's, its columns (0 included).
        chosen_by = ("source_lang",) if reading.get("format") == "anki" else ("source_column", "target_column")
        run_record.update({key: reading.get(key) for key in ("format", *chosen_by)})
    run_record = {key: value for key, value in run_record.items() if value is not None and value is not False}
    info = {"data": data, "run": run_record, "preset": preset_name, "command": command_line(args)}
    _say(lines, f"training on {len(train):,} pairs, dev {len(dev):,} pairs, preset {preset_name}")
    progress = [stream for stream, wanted in ((sys.stderr, not args.quiet and not sys.stderr.isatty()),
                                              (log, log is not None)) if wanted]
    bar = not args.quiet and sys.stderr.isatty()
    translator = Translator.train(train, dev=dev, settings=settings, out_dir=args.out, verbose=1 if bar else 0,
                                  info=info, log_dir=args.tensorboard, resume=args.resume,
                                  callbacks=[ProgressLines(progress, args.log_every)] if progress else [])
    record = translator.info["training"]
    if args.test:
        _score_test(args, translator, as_trained, data["files"])
    best = record["best"]
    chosen = ", ".join(f"{k} {v:.2f}" for k, v in best.items() if k not in ("epoch", "step"))
    print(f"saved {args.out} (best: epoch {best.get('epoch', 0)} of {record['epochs']}, step "
          f"{best.get('step', 0)}, {chosen or 'no evaluation'}; "
          f"{record['target_tokens_per_second']:,.0f} target tokens/s, {record['seconds']:.0f} s)")
    shapes = record["compiled_shapes"]
    print("compiled shapes: " + ", ".join(
        f"{label} {shapes[key]}" + (f" (at most {shapes['bound'][key]})" if key in shapes["bound"] else "")
        for key, label in (("train", "train"), ("dev_loss", "dev loss"), ("generate", "dev decoding"))))
    if record.get("batches"):
        print(f"batches: {record['batches']['description']}; padding {record['batches']['padding_share']:.1%} "
              f"of the target positions")
    print(f"model card: {Path(args.out) / 'README.md'}; options: {Path(args.out) / 'train.yaml'}")
    lines.line(f"finished: saved {args.out} ({record['seconds']:.0f} s)")
    return 0


def _say(lines, message: str) -> None:
    print(message, file=sys.stderr)
    lines.line(message)


def _report(files: list, role: str, path: str):
    """A `ReadReport` whose counts land in the model's list of data files."""
    from keras_seq2seq.data.corpus import ReadReport

    report = ReadReport()
    files.append({"role": role, "path": str(path), "bytes": os.path.getsize(path), "report": report})
    return report


def _training_pairs(args, settings):
    """The training pairs (or stream), how they were read, and the files read so far."""
    files: list = []
    if args.stream:
        corpus = _streamed_corpus(args, settings)
        reading = corpus.last_scan.report.reading
        files.append({"role": "train", "path": str(args.data), "bytes": os.path.getsize(args.data),
                      "pairs": corpus.last_scan.pairs})
        return corpus, reading, files
    report = _report(files, "train", args.data)
    if args.target_data:
        files.append({"role": "train (target side)", "path": str(args.target_data),
                      "bytes": os.path.getsize(args.target_data)})
    pairs = read_pairs(args, args.data, args.target_data, report=report)
    _counted(files)
    return pairs, dict(report.reading), files


def _counted(files: list) -> None:
    """Replace each read report by the pairs it counted (the record is JSON)."""
    for entry in files:
        if "report" in entry:
            entry["pairs"] = entry.pop("report").read


def _score_test(args, translator, as_trained: dict, files: list) -> None:
    """Score --test greedily and put it in the model's record and card."""
    from keras_seq2seq.artifacts import write_description

    pairs = read_pairs(args, args.test, model_info=as_trained, report=_report(files, "test", args.test))
    _counted(files)
    result = translator.evaluate(pairs)
    translator.info["test"] = {"file": str(args.test), "sentences": result["sentences"], "search": "greedy",
                               "bleu": result["bleu"], "chrf": result["chrf"], "signatures": result["signatures"]}
    write_description(translator.bundle, args.out)
    print(f"test {args.test}: BLEU {result['bleu']:.2f}, chrF {result['chrf']:.2f} (greedy)", file=sys.stderr)


def _streamed_corpus(args, settings):
    """--data as a `StreamedCorpus`, scanned here (token counts, sizes) so its summary prints
    before training; training reuses the scan."""
    from keras_seq2seq.data.streaming import StreamedCorpus

    started = time.perf_counter()
    corpus = StreamedCorpus(args.data, **({"shuffle_buffer": args.shuffle_buffer} if args.shuffle_buffer else {}),
                            target_path=args.target_data, **read_options(args))
    scan = corpus.scan(settings)
    dropped = f", {scan.dropped:,} over --max-len" if scan.dropped else ""
    print(f"{args.data}: {scan.report.summary()}{dropped}; streamed in shuffle buffers of "
          f"{corpus.shuffle_buffer:,} pairs (counting pass {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    for message in scan.report.notes:
        print(f"  {message}", file=sys.stderr)
    for message in scan.report.first_skipped:
        print(f"  skipped: {message}", file=sys.stderr)
    return corpus
