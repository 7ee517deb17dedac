"""The `seq2seq` command: parses arguments, calls the public API, prints for people.

    seq2seq train --task dates --out runs/dates
    seq2seq train --data pairs.tsv --source-lang spa --out runs/spa-eng
    echo "March 3, 2021" | seq2seq translate --model runs/dates
    seq2seq evaluate --model runs/dates --task dates
    seq2seq demo

Every expected failure (bad corpus line, bad option, broken model directory) ends with one line
`seq2seq: error: ...` on stderr and exit status 2; nothing already saved is touched.
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time

from keras_seq2seq import compile_cache
from keras_seq2seq.commands import MODULES
from keras_seq2seq.commands.architecture_options import (add_architecture_options, architecture_overrides,
                                                         check_architecture_options)
from keras_seq2seq.config import (ATTENTION_KINDS, LR_SCHEDULES, PRECISIONS, PRESETS, SELECT_ON,
                                   SUBWORD_MODELS, TOKENIZER_KINDS)
from keras_seq2seq.errors import Seq2SeqError

TASK_NAMES = ("dates", "numbers", "reverse")
FORMATS = ("auto", "anki", "tsv", "csv", "aligned")


def main(argv: list[str] | None = None) -> int:
    compile_cache.enable()  # before JAX is imported: later starts skip compiling (see module)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args) or 0
    except Seq2SeqError as error:
        print(f"seq2seq: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seq2seq: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seq2seq",
        description="Sequence-to-sequence learning with Keras 3: train an RNN encoder-decoder on "
                    "pairs of sequences, then translate and evaluate with it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    train = _command(commands, "train", run_train, "train a model on a corpus or a built-in task")
    _add_data_options(train, required=False)
    train.add_argument("--dev", metavar="FILE", help="dev corpus (same format as --data); "
                       "default: hold out --dev-size pairs of the training data")
    train.add_argument("--dev-size", type=_positive_int, default=1000,
                       help="pairs held out for dev when --dev is not given")
    train.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    train.add_argument("--preset", choices=sorted(PRESETS),
                       help="named settings to start from (default: the task's own preset with "
                            "--task, else 'tatoeba-word')")
    group = train.add_argument_group("text")
    group.add_argument("--tokenizer", choices=TOKENIZER_KINDS,
                       help="tokeniser for both sides (sentencepiece: subwords learnt from the training data)")
    group.add_argument("--source-tokenizer", choices=TOKENIZER_KINDS, help="tokeniser for the source")
    group.add_argument("--target-tokenizer", choices=TOKENIZER_KINDS, help="tokeniser for the target")
    group.add_argument("--lowercase", action="store_true", help="lowercase both sides")
    group.add_argument("--min-freq", type=int, help="tokens seen fewer times become <unk>")
    group.add_argument("--max-vocab", type=int, help="largest vocabulary per side")
    group.add_argument("--vocab-size", type=_positive_int,
                       help="sentencepiece: pieces per model, the 4 reserved included (an upper bound)")
    group.add_argument("--subword-model", choices=SUBWORD_MODELS, help="sentencepiece: the subword algorithm")
    group.add_argument("--joint-vocab", action=argparse.BooleanOptionalAction, default=None,
                       help="sentencepiece: one model and vocabulary shared by source and target")
    group = train.add_argument_group("model")
    group.add_argument("--cell", choices=("lstm", "gru"), help="recurrent cell")
    group.add_argument("--embedding-dim", type=int, help="embedding size")
    group.add_argument("--units", type=int, help="hidden size (rnn: recurrent units; transformer: the model size)")
    group.add_argument("--layers", type=int, help="stacked layers on each side (transformer: encoder blocks)")
    group.add_argument("--dropout", type=float, help="dropout rate")
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
    group.add_argument("--param-init", type=float, metavar="SCALE",
                       help="start every weight uniform in [-SCALE, SCALE] (0: Keras' per-layer initialisers)")
    group.add_argument("--precision", choices=PRECISIONS,
                       help="float32, or mixed 16-bit compute with float32 weights (for GPUs/TPUs)")
    add_architecture_options(train)
    group = train.add_argument_group("training (unset options come from the preset)")
    group.add_argument("--epochs", type=int, help="most epochs to train")
    group.add_argument("--batch-size", type=_positive_int, help="sentences per batch")
    group.add_argument("--length-step", type=_positive_int, metavar="N",
                       help="pad source lengths to multiples of N, targets of N/2: smaller N, less "
                            "padding but more compiled shapes (default 8; 4 in the tatoeba-* presets)")
    group.add_argument("--learning-rate", type=float, help="Adam learning rate")
    group.add_argument("--clipnorm", type=float, help="global gradient-norm clip (0: off)")
    group.add_argument("--patience", type=int, help="dev evaluations without improvement before stopping (0: never)")
    group.add_argument("--select-on", choices=SELECT_ON,
                       help="dev score that picks the best checkpoint and drives early stopping "
                            "(bleu/chrf decode the dev set greedily at each evaluation)")
    group.add_argument("--eval-every", type=int, metavar="STEPS",
                       help="decode and score dev every STEPS batches (0: at the end of each epoch)")
    group.add_argument("--warmup-steps", type=int, help="raise the learning rate linearly over these first steps")
    group.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                       help="after warm-up: constant, or inverse-sqrt (falls as 1/sqrt(step); needs --warmup-steps)")
    group.add_argument("--plateau-patience", type=int,
                       help="dev evaluations without improvement before the learning rate is lowered (0: never)")
    group.add_argument("--plateau-factor", type=float, help="factor applied to the learning rate on a plateau")
    group.add_argument("--label-smoothing", type=float, help="label smoothing of the cross-entropy")
    group.add_argument("--max-minutes", type=float, help="stop training after this much wall time")
    group.add_argument("--max-len", type=int, help="drop training pairs longer than this many tokens")
    group.add_argument("--seed", type=int, help="random seed; the same seed repeats a run")
    group.add_argument("--devices", type=_positive_int, metavar="N",
                       help="data-parallel training on N devices (JAX): each batch is split across them; "
                            "--batch-size must be a multiple of N")
    train.add_argument("--task-size", type=int, default=20000, help="training pairs generated with --task")
    group = train.add_argument_group("large corpora")
    group.add_argument("--stream", action="store_true",
                       help="read --data as a stream, one shuffle buffer at a time, instead of loading it "
                            "(memory stays flat as the corpus grows; needs --dev; word or char tokenizers)")
    group.add_argument("--shuffle-buffer", type=_positive_int, metavar="PAIRS",
                       help="with --stream: pairs held, length-sorted and shuffled together (default 100,000)")
    train.add_argument("--tensorboard", metavar="DIR",
                       help="write losses, dev scores and the learning rate for TensorBoard to DIR")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    group = train.add_argument_group("resuming (an unfinished run in --out is resumed by default)")
    group.add_argument("--checkpoint-every", type=int, metavar="STEPS",
                       help="save the training state to OUT/checkpoint every STEPS batches, besides each "
                            "epoch end (0: epoch ends only)")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument("--resume", dest="resume", action="store_const", const=True, default=None,
                        help="continue the unfinished run in --out; fail if there is none")
    choice.add_argument("--restart", "--no-resume", dest="resume", action="store_const", const=False,
                        help="discard an unfinished run's checkpoint in --out and start over")

    evaluate = _command(commands, "evaluate", run_evaluate,
                        "score a model on a test corpus or a built-in task's test split")
    evaluate.add_argument("--model", required=True, metavar="DIR", help="model directory")
    _add_data_options(evaluate, required=False)
    evaluate.add_argument("--samples", type=int, default=10, help="example outputs to print")
    evaluate.add_argument("--batch-size", type=_positive_int, default=64, help="sentences decoded together")
    _add_search_options(evaluate)

    demo = _command(commands, "demo", run_demo, "train on the built-in dates task and report scores")
    demo.add_argument("--task", choices=TASK_NAMES, default="dates", help="built-in task")
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="model directory to write")
    demo.add_argument("--task-size", type=int, default=16000, help="training pairs to generate")
    demo.add_argument("--epochs", type=int, help="most epochs (default: the task preset's)")
    demo.add_argument("--seed", type=int, default=0, help="random seed")

    _command(commands, "tasks", run_tasks, "list the built-in tasks with examples")
    for name in MODULES:
        importlib.import_module(f"keras_seq2seq.commands.{name}").register(commands, _command)
    return parser


def _command(commands, name, run, help_text):
    sub = commands.add_parser(name, help=help_text, description=help_text,
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub.set_defaults(run=run, command=name)
    return sub


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


_positive_int = whole_number(1)


def _add_search_options(parser) -> None:
    group = parser.add_argument_group("search")
    group.add_argument("--beam-size", type=_positive_int, default=1,
                       help="hypotheses kept per sentence; 1 is greedy search")
    group.add_argument("--length-penalty", type=float, default=0.0, metavar="ALPHA",
                       help="GNMT length penalty for beam search; 0 ranks by raw log-probability")
    group.add_argument("--replace-unk", action="store_true",
                       help="attention models: replace each <unk> in the output by the source "
                            "token attended to most at that step")
    group.add_argument("--shortlist", type=whole_number(0), default=0, metavar="SIZE",
                       help="greedy/beam search score only SIZE likely target words per batch "
                            "(faster, approximate; e.g. 2048; 0: the whole vocabulary)")


def _add_data_options(parser, required: bool) -> None:
    group = parser.add_argument_group("data (give --task or --data)")
    group.add_argument("--task", choices=TASK_NAMES, help="a built-in generated task")
    group.add_argument("--data", metavar="FILE", required=required,
                       help="parallel corpus: Tatoeba/Anki or other TSV, CSV, or the source side "
                            "of two aligned files (with --target-data)")
    group.add_argument("--target-data", metavar="FILE", help="target side of aligned plain-text files")
    group.add_argument("--format", choices=FORMATS, default="auto",
                       help="corpus format; auto: aligned with --target-data, csv by suffix, else TSV")
    group.add_argument("--source-lang", metavar="CODE",
                       help="Tatoeba/Anki files (English first): the source language, e.g. spa "
                            "(Spanish→English) or eng (English→the other language)")
    group.add_argument("--source-column", type=int, default=1, help="0-based source column (TSV/CSV)")
    group.add_argument("--target-column", type=int, default=0, help="0-based target column (TSV/CSV)")
    group.add_argument("--skip-bad-lines", action="store_true",
                       help="skip malformed lines (and report how many) instead of stopping")


# ------------------------------------------------------------------------------ data


def _read_pairs(args, path: str, target_path: str | None = None) -> list:
    from keras_seq2seq.data.corpus import ReadReport, read_corpus

    report = ReadReport()
    pairs = list(read_corpus(
        path, format=args.format, source_lang=args.source_lang, source_column=args.source_column,
        target_column=args.target_column, target_path=target_path,
        skip_bad_lines=args.skip_bad_lines, report=report,
    ))
    print(f"{path}: {report.summary()}", file=sys.stderr)
    for message in report.first_skipped:
        print(f"  skipped: {message}", file=sys.stderr)
    return pairs


def _streamed_corpus(args, preset: str):
    """--data as a `StreamedCorpus`, scanned here (token counts, sizes) so its summary prints
    before training; `Translator.train` reuses the scan."""
    from keras_seq2seq.config import preset as preset_settings
    from keras_seq2seq.data.streaming import StreamedCorpus

    started = time.perf_counter()
    corpus = StreamedCorpus(
        args.data, **({"shuffle_buffer": args.shuffle_buffer} if args.shuffle_buffer else {}),
        format=args.format, source_lang=args.source_lang, source_column=args.source_column,
        target_column=args.target_column, target_path=args.target_data, skip_bad_lines=args.skip_bad_lines,
    )
    scan = corpus.scan(preset_settings(preset).updated(**_setting_overrides(args)))
    dropped = f", {scan.dropped:,} over --max-len" if scan.dropped else ""
    print(f"{args.data}: {scan.report.summary()}{dropped}; streamed in shuffle buffers of "
          f"{corpus.shuffle_buffer:,} pairs (counting pass {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    for message in scan.report.first_skipped:
        print(f"  skipped: {message}", file=sys.stderr)
    return corpus


def _task_data(name: str, size: int, seed: int) -> dict:
    from keras_seq2seq.data.tasks import task_splits

    return task_splits(name, train=size, dev=1000, test=1000, seed=seed)


# -------------------------------------------------------------------------- commands


def run_train(args) -> int:
    from keras_seq2seq.translator import Translator

    if bool(args.task) == bool(args.data):
        raise Seq2SeqError("give exactly one of --task NAME or --data FILE")
    if args.stream and not (args.data and args.dev):
        raise Seq2SeqError("--stream reads --data FILE as it trains and never holds it, so no dev set can be "
                           "held out of it: give --dev FILE too (e.g. a few thousand lines set apart with "
                           "shuf and head)")
    seed = 0 if args.seed is None else args.seed
    if args.task:
        splits = _task_data(args.task, args.task_size, seed)
        train, dev = splits["train"], splits["dev"]
        info = {"data": {"task": args.task, "train_pairs": len(train)}}
        preset = args.preset or args.task
    else:
        preset = args.preset or "tatoeba-word"
        train = _streamed_corpus(args, preset) if args.stream else _read_pairs(args, args.data, args.target_data)
        if args.dev:
            dev = _read_pairs(args, args.dev)
        else:
            random.Random(seed).shuffle(train)
            held = min(args.dev_size, len(train) // 10)
            dev, train = train[:held], train[held:]
        info = {"data": {"file": str(args.data), "format": args.format, "source_lang": args.source_lang,
                         "source_column": args.source_column, "target_column": args.target_column,
                         **({"shuffle_buffer": train.shuffle_buffer} if args.stream else {})}}
    overrides = _setting_overrides(args)
    from keras_seq2seq.config import preset as preset_settings

    check_architecture_options(args, preset_settings(preset).updated(**overrides).model.architecture)
    print(f"training on {len(train):,} pairs, dev {len(dev):,} pairs, preset {preset}", file=sys.stderr)
    translator = Translator.train(train, dev=dev, preset=preset, out_dir=args.out,
                                  verbose=0 if args.quiet else 1, info=info, log_dir=args.tensorboard,
                                  resume=args.resume, **overrides)
    record = translator.info["training"]
    best = record["best"]
    chosen = ", ".join(f"{k} {v:.2f}" for k, v in best.items() if k not in ("epoch", "step"))
    print(f"saved {args.out} (best: epoch {best.get('epoch', 0)} of {record['epochs']}, step "
          f"{best.get('step', 0)}, {chosen or 'no evaluation'}; "
          f"{record['target_tokens_per_second']:,.0f} target tokens/s, {record['seconds']:.0f} s)")
    shapes = record["compiled_shapes"]
    print("compiled shapes: " + ", ".join(
        f"{label} {shapes[key]}" + (f" (at most {shapes['bound'][key]})" if key in shapes["bound"] else "")
        for key, label in (("train", "train"), ("dev_loss", "dev loss"), ("generate", "dev decoding"))))
    return 0


def _setting_overrides(args) -> dict:
    source = args.source_tokenizer or args.tokenizer
    target = args.target_tokenizer or args.tokenizer
    overrides = {
        "min_freq": args.min_freq, "max_vocab": args.max_vocab, "vocab_size": args.vocab_size,
        "subword_model": args.subword_model, "joint_vocab": args.joint_vocab,
        "tie_embeddings": args.tie_embeddings, "precision": args.precision, "cell": args.cell,
        "embedding_dim": args.embedding_dim, "units": args.units, "num_layers": args.layers,
        "dropout": args.dropout, "attention": args.attention, "bidirectional": args.bidirectional,
        "bridge": args.bridge, "param_init": args.param_init,
        "scaled_attention": args.scaled_attention, "epochs": args.epochs, "batch_size": args.batch_size,
        "length_step": args.length_step, "learning_rate": args.learning_rate, "clipnorm": args.clipnorm,
        "patience": args.patience,
        "seed": args.seed, "max_source_len": args.max_len, "max_target_len": args.max_len,
        "select_on": args.select_on, "eval_every": args.eval_every, "warmup_steps": args.warmup_steps,
        "plateau_patience": args.plateau_patience, "plateau_factor": args.plateau_factor,
        "label_smoothing": args.label_smoothing, "max_minutes": args.max_minutes,
        "checkpoint_every": args.checkpoint_every, "devices": args.devices, "lr_schedule": args.lr_schedule,
        **architecture_overrides(args),
    }
    # Partial tokenizer settings: merged into the preset's, so --lowercase keeps its kind.
    for side, kind in (("source_tokenizer", source), ("target_tokenizer", target)):
        change = {**({"kind": kind} if kind else {}), **({"lowercase": True} if args.lowercase else {})}
        if change:
            overrides[side] = change
    return overrides


def run_evaluate(args) -> int:
    from keras_seq2seq.shapes import decoding_summary
    from keras_seq2seq.translator import Translator

    translator = Translator.load(args.model)
    if bool(args.task) == bool(args.data):
        raise Seq2SeqError("give exactly one of --task NAME or --data FILE")
    if args.task:
        seed = translator.settings.train.seed
        # The same train size as in training, so the test split is the one held out from it.
        size = translator.info.get("data", {}).get("train_pairs", 20000)
        pairs = _task_data(args.task, size, seed)["test"]
    else:
        pairs = _read_pairs(args, args.data, args.target_data)
    translator.use_shortlist(args.shortlist)
    result = translator.evaluate(pairs, args.batch_size, args.beam_size, args.length_penalty,
                                 replace_unk=args.replace_unk)
    _print_samples(pairs, result["hypotheses"], args.samples)
    _print_scores(result)
    traced, bound = decoding_summary(translator, [p.source for p in pairs], args.batch_size)
    print(f"compiled shapes  {traced} (at most {bound})")
    return 0


def run_demo(args) -> int:
    from keras_seq2seq.translator import Translator

    started = time.perf_counter()
    splits = _task_data(args.task, args.task_size, args.seed)
    print(f"demo: task {args.task}: {len(splits['train']):,} train / {len(splits['dev']):,} dev / "
          f"{len(splits['test']):,} test pairs, e.g. {splits['train'][0].source!r} → "
          f"{splits['train'][0].target!r}")
    translator = Translator.train(splits["train"], dev=splits["dev"], preset=args.task,
                                  out_dir=args.out, epochs=args.epochs, seed=args.seed,
                                  info={"data": {"task": args.task, "train_pairs": args.task_size}})
    result = translator.evaluate(splits["test"])
    _print_samples(splits["test"], result["hypotheses"], 10)
    _print_scores(result)
    seconds = time.perf_counter() - started
    print(f"model saved in {args.out}; try: echo 'July 4, 1976' | seq2seq translate --model {args.out}")
    print(f"demo: task={args.task} exact_match={result['exact_match']:.3f} "
          f"token_accuracy={result['token_accuracy']:.3f} bleu={result['bleu']:.1f} seconds={seconds:.0f}")
    return 0


def run_tasks(args) -> int:
    from keras_seq2seq.data.tasks import TASKS

    for name, task in TASKS.items():
        print(f"{name}: {task.description}")
        for source, target in task.examples[:3]:
            print(f"    {source!r} → {target!r}")
    return 0


def _print_samples(pairs, hypotheses, count: int) -> None:
    if count <= 0:
        return
    print(f"\n{'input':<36} {'output':<36} reference")
    for pair, hypothesis in list(zip(pairs, hypotheses))[:count]:
        mark = "✓" if hypothesis == pair.target else "✗"
        print(f"{_cut(pair.source):<36} {_cut(hypothesis):<36} {_cut(pair.target)} {mark}")
    print()


def _print_scores(result: dict) -> None:
    print(f"sentences        {result['sentences']:,}")
    print(f"exact match      {result['exact_match']:.3f}")
    print(f"token accuracy   {result['token_accuracy']:.3f}")
    print(f"BLEU             {result['bleu']:.1f}")
    print(f"chrF             {result['chrf']:.1f}")
    print(f"decoding         {result['sentences_per_second']:,.0f} sentences/s")


def _cut(text: str, width: int = 35) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
