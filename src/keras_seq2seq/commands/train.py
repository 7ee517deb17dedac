"""`seq2seq train`: train a model on a corpus or a built-in task, into a model directory.

    seq2seq train --task dates --out runs/dates
    seq2seq train --data ../shared/data/spa-eng/train.tsv --dev ../shared/data/spa-eng/dev.tsv \
        --source-lang spa --preset tatoeba-small --out runs/spa-eng

Unset options come from the preset (the task's own with --task, else `tatoeba-word`). The settings
are resolved here, once, and handed to `Translator.train`; an unfinished run in --out is resumed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from keras_seq2seq.commands.options import (add_data_options, positive_int, read_options, read_pairs,
                                            task_data)
from keras_seq2seq.config import ATTENTION_KINDS, PRECISIONS, PRESETS, SELECT_ON, SUBWORD_MODELS, TOKENIZER_KINDS
from keras_seq2seq.data.dialogue import context_turns_of
from keras_seq2seq.errors import Seq2SeqError


def register(commands, command) -> None:
    train = command(commands, "train", run, "train a model on a corpus or a built-in task")
    add_data_options(train, required=False)
    train.add_argument("--dev", metavar="FILE", help="dev corpus (same format as --data); "
                       "default: hold out --dev-size pairs of the training data")
    train.add_argument("--dev-size", type=positive_int, default=1000,
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
    group.add_argument("--vocab-size", type=positive_int,
                       help="sentencepiece: pieces per model, the 4 reserved included (an upper bound)")
    group.add_argument("--subword-model", choices=SUBWORD_MODELS, help="sentencepiece: the subword algorithm")
    group.add_argument("--joint-vocab", action=argparse.BooleanOptionalAction, default=None,
                       help="sentencepiece: one model and vocabulary shared by source and target")
    group = train.add_argument_group("model")
    group.add_argument("--cell", choices=("lstm", "gru"), help="recurrent cell")
    group.add_argument("--embedding-dim", type=int, help="embedding size")
    group.add_argument("--units", type=int, help="recurrent hidden size")
    group.add_argument("--layers", type=int, help="stacked recurrent layers on each side")
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
    group = train.add_argument_group("training (unset options come from the preset)")
    group.add_argument("--epochs", type=int, help="most epochs to train")
    group.add_argument("--batch-size", type=positive_int, help="sentences per batch")
    group.add_argument("--length-step", type=positive_int, metavar="N",
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
    group.add_argument("--plateau-patience", type=int,
                       help="dev evaluations without improvement before the learning rate is lowered (0: never)")
    group.add_argument("--plateau-factor", type=float, help="factor applied to the learning rate on a plateau")
    group.add_argument("--label-smoothing", type=float, help="label smoothing of the cross-entropy")
    group.add_argument("--max-minutes", type=float, help="stop training after this much wall time")
    group.add_argument("--max-len", type=int, help="drop training pairs longer than this many tokens")
    group.add_argument("--seed", type=int, help="random seed; the same seed repeats a run")
    group.add_argument("--devices", type=positive_int, metavar="N",
                       help="data-parallel training on N devices (JAX): each batch is split across them; "
                            "--batch-size must be a multiple of N")
    train.add_argument("--task-size", type=int, default=20000, help="training pairs generated with --task")
    group = train.add_argument_group("large corpora")
    group.add_argument("--stream", action="store_true",
                       help="read --data as a stream, one shuffle buffer at a time, instead of loading it "
                            "(memory stays flat as the corpus grows; needs --dev; word or char tokenizers)")
    group.add_argument("--shuffle-buffer", type=positive_int, metavar="PAIRS",
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


def run(args) -> int:
    from keras_seq2seq.config import resolve
    from keras_seq2seq.translator import Translator

    if bool(args.task) == bool(args.data):
        raise Seq2SeqError("give exactly one of --task NAME or --data FILE")
    if args.stream and not (args.data and args.dev):
        raise Seq2SeqError("--stream reads --data FILE as it trains and never holds it, so no dev set can be "
                           "held out of it: give --dev FILE too (e.g. a few thousand lines set apart with "
                           "shuf and head)")
    preset = args.preset or args.task or "tatoeba-word"
    settings = resolve(preset, **setting_overrides(args))  # checked before any data is read
    seed = settings.train.seed
    if args.task:
        splits = task_data(args.task, args.task_size, seed)
        train, dev = splits["train"], splits["dev"]
        info = {"data": {"task": args.task, "train_pairs": len(train)}}
    else:
        train = _streamed_corpus(args, settings) if args.stream else read_pairs(args, args.data, args.target_data)
        if args.dev:
            dev = read_pairs(args, args.dev)
        else:
            random.Random(seed).shuffle(train)
            held = min(args.dev_size, len(train) // 10)
            dev, train = train[:held], train[held:]
        info = {"data": {"file": str(args.data), "format": args.format, "source_lang": args.source_lang,
                         "source_column": args.source_column, "target_column": args.target_column,
                         **({"shuffle_buffer": train.shuffle_buffer} if args.stream else {})}}
        if not args.stream:  # pairs from prepare-dialogue: chat and evaluate read the context length
            turns = context_turns_of([pair.source for pair in train])
            if turns:
                info["data"]["dialogue"] = {"context_turns": turns}
    print(f"training on {len(train):,} pairs, dev {len(dev):,} pairs, preset {preset}", file=sys.stderr)
    translator = Translator.train(train, dev=dev, settings=settings, out_dir=args.out,
                                  verbose=0 if args.quiet else 1, info=info, log_dir=args.tensorboard,
                                  resume=args.resume)
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


def setting_overrides(args) -> dict:
    """The settings the flags change (None: keep the preset's), as `Settings.updated` takes them."""
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
        "checkpoint_every": args.checkpoint_every, "devices": args.devices,
    }
    # Partial tokenizer settings: merged into the preset's, so --lowercase keeps its kind.
    for side, kind in (("source_tokenizer", source), ("target_tokenizer", target)):
        change = {**({"kind": kind} if kind else {}), **({"lowercase": True} if args.lowercase else {})}
        if change:
            overrides[side] = change
    return overrides


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
    for message in scan.report.first_skipped:
        print(f"  skipped: {message}", file=sys.stderr)
    return corpus
