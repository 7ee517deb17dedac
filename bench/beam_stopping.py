"""Beam search that stops each sentence once its best output is final, against searching to the end.

    .venv/bin/python bench/beam_stopping.py --model runs/quality-side-30 \
        --data ../shared/data/spa-eng/test.tsv --source-lang spa [--beam 5] [--repeats 3]

Both searches are the library's (`search/beam.py`) on the same trained model and sentences
(batches of 64, length-sorted, as `translate` does):
- "to the end": `n_best = beam`, every hypothesis of every sentence runs until it has ended (or
  the length limit), which is what the search did before it could stop early;
- "stop when settled": `n_best = 1`, what `translate` and `evaluate` ask for.
Each is compiled first, then timed alternately `--repeats` times; medians are printed, and the
best outputs are checked to be identical (the benchmark exits 1 if one differs).
Last line: `beam_stopping: beam=5 to_the_end=180.1 settled=310.4 speedup=1.72x identical=1000/1000`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import decoding_runs  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beam", type=int, default=5)
    decoding_runs.add_arguments(parser, repeats=3)
    args = parser.parse_args(argv)

    translator, sources = decoding_runs.load(args)
    searches = {"to the end": args.beam, "stop when settled": 1}

    def run(n_best: int) -> tuple[float, list[list[int]]]:
        generator = translator.generator(args.beam, n_best=n_best)
        return decoding_runs.timed_pass(translator, sources, generator, args.batch_size)

    outputs = {name: run(n_best)[1] for name, n_best in searches.items()}  # compiles every shape
    seconds: dict[str, list[float]] = {name: [] for name in searches}
    for _ in range(args.repeats):
        for name, n_best in searches.items():
            seconds[name].append(run(n_best)[0])
    rates = {name: len(sources) / statistics.median(times) for name, times in seconds.items()}
    same = sum(a == b for a, b in zip(outputs["to the end"], outputs["stop when settled"]))

    print(f"{args.model}: {len(sources):,} sentences, beam {args.beam}, batches of {args.batch_size}, "
          f"{args.repeats} timed repeats each (median)\n")
    print("| search | sentences/s |\n|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.1f} |")
    speedup = rates["stop when settled"] / rates["to the end"]
    print(f"\nbest outputs identical: {same:,} of {len(sources):,}")
    print(f"beam_stopping: beam={args.beam} to_the_end={rates['to the end']:.1f} "
          f"settled={rates['stop when settled']:.1f} speedup={speedup:.2f}x identical={same}/{len(sources)}")
    return 0 if same == len(sources) else 1


if __name__ == "__main__":
    sys.exit(main())
