"""Memory and time of one training epoch on large generated corpora: streamed against in memory.

    .venv/bin/python bench/streaming.py                        # 1M and 5M pairs streamed, 1M in memory
    .venv/bin/python bench/streaming.py --sizes 1000000 --work /tmp/stream-bench

Writes seeded synthetic TSV corpora (Zipf-distributed words, 3-12 per sentence, a target that is
a word-for-word relabelling in reverse order) into --work (a temporary folder by default, never
the repository), then trains a tiny model for one epoch on each in a child process
(`seq2seq train --stream`), and the same in memory (without `--stream`) on the smallest corpus.
For each run it prints the child's peak RSS (its own `getrusage`, through `os.wait4`), the
counting pass, and seconds of training per 100,000 pairs. With streaming, peak RSS should stay
flat as the corpus grows; in memory, it grows with it. The last line is machine-readable.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

VOCABULARY = 500      # distinct words per side (small: the output layer is most of a step)
LENGTHS = (3, 10)     # words per sentence, inclusive: two source and three target padded lengths
DEV_PAIRS = 1000
CHUNK = 100_000       # lines generated and written at a time (generation is itself bounded)
# A tiny model in large batches: the benchmark measures the data path, not the network.
TRAIN_OPTIONS = ["--epochs", "1", "--units", "32", "--embedding-dim", "16", "--dropout", "0",
                 "--select-on", "loss", "--min-freq", "1", "--quiet"]


def write_corpus(path: Path, pairs: int, seed: int) -> None:
    """`pairs` lines of `target<TAB>source`, the same for the same seed."""
    rng = np.random.default_rng(seed)
    partial = path.with_name(path.name + ".partial")  # renamed when whole: a kept --work never holds half a corpus
    with open(partial, "w", encoding="utf-8") as file:
        for start in range(0, pairs, CHUNK):
            count = min(CHUNK, pairs - start)
            lengths = rng.integers(LENGTHS[0], LENGTHS[1] + 1, count)
            words = (rng.zipf(1.2, int(lengths.sum())) - 1) % VOCABULARY
            ends = np.cumsum(lengths)
            lines = []
            for sentence in np.split(words, ends[:-1]):
                source = " ".join(f"s{w}" for w in sentence)
                target = " ".join(f"t{w}" for w in sentence[::-1])
                lines.append(f"{target}\t{source}\n")
            file.write("".join(lines))
    os.replace(partial, path)


def train(corpus: Path, dev: Path, out: Path, stream: bool, batch_size: int) -> dict:
    """One epoch in a child process; its peak RSS, wall time and what it printed."""
    command = [sys.executable, "-m", "keras_seq2seq.cli", "train", "--data", str(corpus), "--dev", str(dev),
               "--out", str(out), "--restart", "--batch-size", str(batch_size), *TRAIN_OPTIONS,
               *(["--stream"] if stream else [])]
    log = out.with_suffix(".log")
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as output:
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not all children's
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    stderr = log.read_text(encoding="utf-8")
    if child.returncode != 0:
        raise SystemExit(f"streaming: training failed on {corpus}:\n{stderr[-3000:]}")
    record = json.loads((out / "config.json").read_text(encoding="utf-8"))["training"]
    counting = re.search(r"counting pass (\d+) s", stderr)
    return {"peak_rss_mb": usage.ru_maxrss / 1024, "wall": wall, "train_seconds": record["seconds"],
            "pairs": record["train_pairs"], "counting_seconds": int(counting.group(1)) if counting else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sizes", default="1000000,5000000", help="corpus sizes in pairs, comma-separated")
    parser.add_argument("--work", type=Path, help="folder for the corpora and models (default: a temporary one)")
    parser.add_argument("--no-memory-run", action="store_true", help="skip the in-memory comparison")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed")
    parser.add_argument("--batch-size", type=int, default=1024, help="sentences per batch")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="seq2seq-stream-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        dev = work / "dev.tsv"
        write_corpus(dev, DEV_PAIRS, args.seed + 1)
        runs = []
        for size in sizes:
            corpus = work / f"train-{size}.tsv"
            if not corpus.exists():
                started = time.perf_counter()
                write_corpus(corpus, size, args.seed)
                print(f"wrote {corpus} ({size:,} pairs, {corpus.stat().st_size / 1e6:,.0f} MB) in "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
            modes = [True] + ([False] if size == min(sizes) and not args.no_memory_run else [])
            for stream in modes:
                result = train(corpus, dev, work / f"model-{size}-{'stream' if stream else 'memory'}", stream,
                               args.batch_size)
                runs.append({"size": size, "stream": stream, **result})
                print(f"  {'streamed' if stream else 'in memory'}: {result['peak_rss_mb']:,.0f} MB peak RSS, "
                      f"{result['wall']:.0f} s in all", flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'pairs':>10} {'mode':>10} {'peak RSS':>10} {'counting':>9} {'train s/100k':>13} {'all s/100k':>11}")
    for run in runs:
        counting = "" if run["counting_seconds"] is None else f"{run['counting_seconds']} s"
        print(f"{run['size']:>10,} {'stream' if run['stream'] else 'memory':>10} {run['peak_rss_mb']:>7,.0f} MB "
              f"{counting:>9} {run['train_seconds'] / run['pairs'] * 1e5:>13.1f} {run['wall'] / run['size'] * 1e5:>11.1f}")
    summary = " ".join(f"{name}_rss_mb={r['peak_rss_mb']:.0f} {name}_s_per_100k={r['wall'] / r['size'] * 1e5:.1f}"
                       for r in runs for name in [f"{'stream' if r['stream'] else 'memory'}_{r['size'] / 1e6:g}M"])
    print(f"streaming: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
