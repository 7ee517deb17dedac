"""`seq2seq demo`: train on a built-in task, report scores and sample outputs (what `make demo` runs)."""

from __future__ import annotations

import sys
import time

from keras_seq2seq.commands.options import TASK_NAMES, task_data


def register(commands, command) -> None:
    demo = command(commands, "demo", run, "train on the built-in dates task and report scores")
    demo.add_argument("--task", choices=TASK_NAMES, default="dates", help="built-in task")
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="model directory to write")
    demo.add_argument("--task-size", type=int, default=16000, help="training pairs to generate")
    demo.add_argument("--epochs", type=int, help="most epochs (default: the task preset's)")
    demo.add_argument("--seed", type=int, default=0, help="random seed")


def run(args) -> int:
    from keras_seq2seq.commands.report import print_samples, print_scores
    from keras_seq2seq.config import resolve
    from keras_seq2seq.training.progress import ProgressLines
    from keras_seq2seq.translator import Translator

    started = time.perf_counter()
    settings = resolve(args.task, epochs=args.epochs, seed=args.seed)
    splits = task_data(args.task, args.task_size, args.seed)
    print(f"demo: task {args.task}: {len(splits['train']):,} train / {len(splits['dev']):,} dev / "
          f"{len(splits['test']):,} test pairs, e.g. {splits['train'][0].source!r} → "
          f"{splits['train'][0].target!r}")
    bar = sys.stderr.isatty()  # else plain progress lines, as `seq2seq train` prints them
    translator = Translator.train(splits["train"], dev=splits["dev"], settings=settings, out_dir=args.out,
                                  info={"data": {"task": args.task, "train_pairs": args.task_size}},
                                  verbose=1 if bar else 0, callbacks=[] if bar else [ProgressLines([sys.stderr])])
    result = translator.evaluate(splits["test"])
    print_samples(splits["test"], result["hypotheses"], 10)
    print_scores(result)
    seconds = time.perf_counter() - started
    print(f"model saved in {args.out}; try: echo 'July 4, 1976' | seq2seq translate --model {args.out}")
    print(f"demo: task={args.task} exact_match={result['exact_match']:.3f} "
          f"token_accuracy={result['token_accuracy']:.3f} bleu={result['bleu']:.1f} seconds={seconds:.0f}")
    return 0
