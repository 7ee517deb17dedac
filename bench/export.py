"""ONNX export side by side with our JAX decoding: same outputs? how fast? how soon the first sentence?

    .venv/bin/python bench/export.py --model runs/spa-small            # a trained tatoeba-small model
    .venv/bin/python bench/export.py --quick --model runs/spa-small    # under 10 minutes
    .venv/bin/python bench/export.py --minutes 30                      # trains one first (runs/export-spa-eng)

On the pair's real test set (spa-eng: Spanish -> English), in one run: the model decoded by
keras-seq2seq (JAX, compiled loops), by the ONNX runtime on the float32 export, and on the int8
export (`seq2seq export --int8`), at batches of 64, greedy and beam 5. Speed is the median of
`--runs` timed passes per engine, the engines taking turns, after one untimed pass that compiles
(JAX) or warms up (onnxruntime). Cold start is a fresh process from its start until the first
output line of one sentence (JAX: `seq2seq translate` with its compile cache filled by an
earlier start; ONNX: `python -m keras_seq2seq.runtime`), median of `--cold-runs`.

Last line, machine-readable (ratios against our JAX decoding in the same run; identical: share
of greedy and beam-5 outputs of the float32 export equal to JAX's; int8_bleu_delta: the larger
BLEU change of greedy and beam 5; cold_start_s: the slower of the two exports):
`export: pair=spa-eng identical=… ort_greedy=…x ort_beam5=…x int8_greedy=…x int8_beam5=…x int8_bleu_delta=… cold_start_s=…`
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (HERE, add_pair_arguments, argument_parser, as_the_command_does, busy_warning, last_line, median,
                    pair_dir)

BATCH = 64
BEAMS = (1, 5)


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--model", type=Path, help="a trained model directory (default: train one)")
    add_pair_arguments(parser)
    parser.add_argument("--source-lang", default="spa", help="source language of the pair's files")
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget when no --model")
    parser.add_argument("--out", type=Path, help="where to train the model (default runs/export-<pair>)")
    parser.add_argument("--sentences", type=int, default=0, help="test sentences used (0: all)")
    parser.add_argument("--runs", type=int, default=3, help="timed passes per engine and search")
    parser.add_argument("--cold-runs", type=int, default=3, help="process starts per engine")
    parser.add_argument("--quick", action="store_true", help="1,000 sentences, 2 runs, 2 cold starts")
    args = parser.parse_args()
    as_the_command_does()
    if args.quick:
        args.sentences, args.runs, args.cold_runs = args.sentences or 1000, 2, 2

    from keras_seq2seq import metrics
    from keras_seq2seq.data.corpus import read_corpus
    from keras_seq2seq.export import export_model
    from keras_seq2seq.runtime import load
    from keras_seq2seq.translator import Translator

    folder = pair_dir("export", args.data_dir, args.pair, splits=("test",) if args.model else ("train", "dev", "test"))
    busy_warning("export")
    model_dir = args.model or train(args, folder)
    test = list(read_corpus(folder / "test.tsv", source_lang=args.source_lang))
    test = test[: args.sentences] if args.sentences else test
    sources, references = [p.source for p in test], [p.target for p in test]
    workdir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    exports = {"float32": workdir / "float32", "int8": workdir / "int8"}
    for precision, directory in exports.items():
        started = time.perf_counter()
        export_model(model_dir, directory, int8=precision == "int8")
        size = sum(f.stat().st_size for f in directory.glob("*.onnx")) / 1e6
        print(f"exported {precision} in {time.perf_counter() - started:.1f} s: {size:.1f} MB of graphs", flush=True)

    engines = {"jax": Translator.load(model_dir), "onnx-float32": load(exports["float32"]),
               "onnx-int8": load(exports["int8"])}
    outputs, speed = {}, {}
    for beam in BEAMS:
        for name, engine in engines.items():  # untimed: compiles (JAX), warms up (onnxruntime)
            outputs[name, beam] = engine.translate(sources, batch_size=BATCH, beam_size=beam)
        times = {name: [] for name in engines}
        for _ in range(args.runs):
            for name, engine in engines.items():
                started = time.perf_counter()
                engine.translate(sources, batch_size=BATCH, beam_size=beam)
                times[name].append(time.perf_counter() - started)
        for name in engines:
            speed[name, beam] = len(sources) / median(times[name])
        print(f"beam {beam}: " + ", ".join(f"{n} {speed[n, beam]:,.0f} sent/s" for n in engines), flush=True)

    tokenize = engines["jax"].target_tokenizer.tokenize
    bleu = {key: metrics.score(hypotheses, references, tokenize)["bleu"] for key, hypotheses in outputs.items()}
    same = [a == b for beam in BEAMS for a, b in zip(outputs["jax", beam], outputs["onnx-float32", beam])]
    identical = sum(same) / len(same)
    cold = {"jax": cold_start([sys.executable, "-m", "keras_seq2seq.cli", "translate", "--model", str(model_dir)],
                              sources[0], args.cold_runs, workdir / "xla-cache")}
    for precision, directory in exports.items():
        cold[f"onnx-{precision}"] = cold_start([sys.executable, "-m", "keras_seq2seq.runtime", "--model",
                                                str(directory)], sources[0], args.cold_runs)

    print(f"\n{args.pair} test set: {len(sources):,} sentences, batches of {BATCH}; medians of {args.runs} runs "
          f"(speed) and {args.cold_runs} starts (cold start); model {model_dir}")
    print("\n| | keras-seq2seq (JAX) | ONNX float32 | ONNX int8 |\n|---|---|---|---|")
    for beam in BEAMS:
        label = "greedy" if beam == 1 else f"beam {beam}"
        jax = speed["jax", beam]
        print(f"| {label}: sentences/s | {jax:,.0f} | {speed['onnx-float32', beam]:,.0f} "
              f"({speed['onnx-float32', beam] / jax:.2f}x) | {speed['onnx-int8', beam]:,.0f} "
              f"({speed['onnx-int8', beam] / jax:.2f}x) |")
        print(f"| {label}: BLEU | {bleu['jax', beam]:.2f} | {bleu['onnx-float32', beam]:.2f} | "
              f"{bleu['onnx-int8', beam]:.2f} |")
    print(f"| cold start, first sentence (s) | {cold['jax']:.2f} | {cold['onnx-float32']:.2f} | "
          f"{cold['onnx-int8']:.2f} |")
    print(f"\nfloat32 outputs identical to JAX's: {sum(same):,} of {len(same):,}")
    deltas = [bleu["onnx-int8", beam] - bleu["jax", beam] for beam in BEAMS]
    delta = max(deltas, key=abs)
    last_line("export", {"pair": args.pair, "identical": f"{identical:.3f}",
                         "ort_greedy": f"{speed['onnx-float32', 1] / speed['jax', 1]:.2f}x",
                         "ort_beam5": f"{speed['onnx-float32', 5] / speed['jax', 5]:.2f}x",
                         "int8_greedy": f"{speed['onnx-int8', 1] / speed['jax', 1]:.2f}x",
                         "int8_beam5": f"{speed['onnx-int8', 5] / speed['jax', 5]:.2f}x",
                         "int8_bleu_delta": f"{delta:+.2f}",
                         "cold_start_s": f"{max(cold['onnx-float32'], cold['onnx-int8']):.2f}"})
    return 0


def train(args, folder: Path) -> Path:
    """A tatoeba-small model on the pair's training data (reused when it already exists)."""
    from keras_seq2seq.data.corpus import read_corpus
    from keras_seq2seq.translator import Translator

    out = args.out or HERE.parent / "runs" / f"export-{args.pair}"
    if (out / "config.json").is_file():
        print(f"using the model already in {out}")
        return out
    train_pairs = list(read_corpus(folder / "train.tsv", source_lang=args.source_lang))
    dev = list(read_corpus(folder / "dev.tsv", source_lang=args.source_lang))
    Translator.train(train_pairs, dev=dev, preset="tatoeba-small", out_dir=out, max_minutes=args.minutes)
    return out


def cold_start(command: list[str], sentence: str, runs: int, cache: Path | None = None) -> float:
    """Median seconds from a process's start to its first output line, for one sentence."""
    env = dict(os.environ)
    if cache is not None:  # JAX: its compile cache, filled by the first (untimed) start
        env.update(SEQ2SEQ_COMPILE_CACHE="on", JAX_COMPILATION_CACHE_DIR=str(cache))
        subprocess.run(command, input=(sentence + "\n").encode(), capture_output=True, env=env, check=True)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=env)
        process.stdin.write((sentence + "\n").encode())
        process.stdin.close()
        line = process.stdout.readline()
        seconds.append(time.perf_counter() - started)
        process.wait()
        if process.returncode or not line:
            raise SystemExit(f"export: {' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return median(seconds)


if __name__ == "__main__":
    sys.exit(main())
