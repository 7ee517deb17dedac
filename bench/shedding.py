"""Decoding that sheds finished sentences from the batch, against keeping every row to the end.

    .venv/bin/python bench/shedding.py --model runs/quality-side-nov26b \
        --data ../shared/data/spa-eng/test.tsv --source-lang spa [--beam 1,5] [--shortlist 2048]

Both are the library's searches (`search/compaction.py`) on the same trained model and sentences,
batches of 64, length-sorted, as `translate` decodes them; only `Generator(shed=...)` differs.
For each beam size, each is compiled first (its first pass; the seconds beyond a timed pass are
shown as compile time), then the two are timed alternately `--repeats` times, medians printed.
The outputs are checked to be identical (the benchmark exits 1 if one differs).
Last line: `shedding: greedy=1.20x beam5=1.15x identical=2000/2000`.
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
    parser.add_argument("--beam", default="1,5", help="comma-separated beam sizes (1: greedy)")
    parser.add_argument("--shortlist", type=int, default=0, help="score this many shortlisted words (0: all)")
    decoding_runs.add_arguments(parser, repeats=5)
    args = parser.parse_args(argv)

    from keras_seq2seq.search.generator import Generator

    translator, sources = decoding_runs.load(args)
    if args.shortlist:
        translator.use_shortlist(args.shortlist)
    print(f"{args.model}: {len(sources):,} sentences, batches of {args.batch_size}, shortlist "
          f"{args.shortlist or 'off'}, {args.repeats} timed repeats each (median)\n")
    print("| search | shedding | sentences/s | compile s |\n|---|---|---|---|")

    def run(generator) -> tuple[float, list[list[int]]]:
        return decoding_runs.timed_pass(translator, sources, generator, args.batch_size)

    ratios, same, total = {}, 0, 0
    for beam in map(int, args.beam.split(",")):
        shortlist = ({"shortlist": translator.shortlist, "shortlist_size": translator.shortlist_size}
                     if translator.shortlist_size else {})
        generators = {shed: Generator(translator.model, translator.max_output_len, beam, n_best=1, shed=shed,
                                      **shortlist) for shed in (True, False)}
        first = {shed: run(g) for shed, g in generators.items()}  # compiles every shape
        seconds: dict[bool, list[float]] = {shed: [] for shed in generators}
        for _ in range(args.repeats):
            for shed, generator in generators.items():
                seconds[shed].append(run(generator)[0])
        name = "greedy" if beam == 1 else f"beam{beam}"
        for shed in generators:
            median = statistics.median(seconds[shed])
            print(f"| {name} | {'on' if shed else 'off'} | {len(sources) / median:,.1f} | "
                  f"{first[shed][0] - median:.1f} |")
        ratios[name] = statistics.median(seconds[False]) / statistics.median(seconds[True])
        same += sum(a == b for a, b in zip(first[True][1], first[False][1]))
        total += len(sources)

    print(f"\noutputs identical: {same:,} of {total:,}")
    print("shedding: " + " ".join(f"{name}={ratio:.2f}x" for name, ratio in ratios.items())
          + f" identical={same}/{total}")
    return 0 if same == total else 1


if __name__ == "__main__":
    sys.exit(main())
