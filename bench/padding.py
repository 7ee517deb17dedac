"""How much of each training batch is real text, and how many padded shapes (compiled programs).

    .venv/bin/python bench/padding.py                       # ../shared/data/spa-eng, batches of 128
    .venv/bin/python bench/padding.py --pair cmn-eng --source-tokenizer char

Prints, for a few length steps, the number of distinct (source, target) padded shapes in one
epoch and the share of real tokens among padded source and target positions, using the
library's own `TrainingBatches`. No model is run: it is instant, and it is what decides how much
of the decoder's and output layer's work is wasted on padding.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np  # noqa: E402

from keras_seq2seq.data.batching import TrainingBatches  # noqa: E402
from keras_seq2seq.data.corpus import read_corpus  # noqa: E402
from keras_seq2seq.text.factory import tokenizer_from_config  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder of <pair>/ splits")
    parser.add_argument("--pair", default="spa-eng", help="language pair folder")
    parser.add_argument("--batch-size", type=int, default=128, help="sentences per batch")
    parser.add_argument("--steps", default="16,8,4", help="length steps to compare (comma-separated)")
    parser.add_argument("--source-tokenizer", default="word", choices=("word", "char"))
    args = parser.parse_args()
    path = args.data_dir / args.pair / "train.tsv"
    if not path.is_file():
        print(f"padding: {path} not found; pass --data-dir", file=sys.stderr)
        return 2
    source_lang = args.pair.split("-")[0]
    pairs = list(read_corpus(path, source_lang=source_lang))
    source_tok = tokenizer_from_config({"kind": args.source_tokenizer})
    target_tok = tokenizer_from_config({"kind": "word"})
    sources = [np.ones(max(len(source_tok.tokenize(p.source)), 1), np.int32) for p in pairs]
    targets = [np.ones(len(target_tok.tokenize(p.target)) + 1, np.int32) for p in pairs]  # + <eos>
    real_source, real_target = sum(map(len, sources)), sum(map(len, targets))
    print(f"{path}: {len(pairs):,} pairs, batches of {args.batch_size}")
    print(f"{'length step':>12} {'shapes':>7} {'shapes with ≥10 batches':>24} {'real source':>12} {'real target':>12}")
    for step in (int(s) for s in args.steps.split(",")):
        batches = TrainingBatches(sources, targets, args.batch_size, step, seed=0)
        shapes = [batches.padded_shape(i) for i in range(len(batches))]
        counts = collections.Counter(shapes)
        padded_source = sum(s for s, _ in shapes) * args.batch_size
        padded_target = sum(t for _, t in shapes) * args.batch_size
        print(f"{step:>12} {len(counts):>7} {sum(c >= 10 for c in counts.values()):>24} "
              f"{real_source / padded_source:>12.3f} {real_target / padded_target:>12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
