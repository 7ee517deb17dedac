"""
Title: Translate Spanish to English
Author: the keras-seq2seq developers
Description: The command-line path: train on Tatoeba pairs, translate, evaluate with beam search.

## Introduction

This example drives the `seq2seq` command, exactly as you would type it, on the Tatoeba
Spanish–English pairs. The pairs are not part of this repository: `seq2seq data download spa-eng
--to data/spa-eng` fetches and splits them when you are online, and on our development machines
they already lie in `../shared/data/spa-eng` (`train.tsv`, `dev.tsv`, `test.tsv`; English in the
first column). Point `--data-dir` at any folder holding such a pair.

    python examples/translate_spanish_to_english.py --minutes 30          # the quality recipe
    python examples/translate_spanish_to_english.py --minutes 5 --out runs/spa-quick

Each step prints the command it runs, so you can copy it.
"""

import argparse
import shlex
import sys
from pathlib import Path

from keras_seq2seq.cli import main as seq2seq

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip(),
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
parser.add_argument("--data-dir", default="../shared/data/spa-eng", help="folder with train/dev/test.tsv")
parser.add_argument("--out", default="runs/spa-eng-example", help="model directory to write")
parser.add_argument("--minutes", type=float, default=30, help="training time budget")
parser.add_argument("--preset", default="tatoeba-small", help="named settings (see README)")
parser.add_argument("--extra", default="", help="more `seq2seq train` options, e.g. '--epochs 1'")
args = parser.parse_args()

data = Path(args.data_dir)
missing = [name for name in ("train.tsv", "dev.tsv", "test.tsv") if not (data / name).is_file()]
if missing:
    sys.exit(f"{data}: missing {', '.join(missing)}; get the pairs with "
             f"`seq2seq data download spa-eng --to {data}` or pass --data-dir")


def run(*argv: str) -> None:
    print("\n$ seq2seq " + " ".join(shlex.quote(a) for a in argv), flush=True)
    status = seq2seq(list(argv))
    if status:
        sys.exit(status)


"""
## Train

Tatoeba/Anki files hold English first, so `--source-lang spa` makes Spanish the source. The
preset `tatoeba-small` is the quality recipe: a bidirectional two-layer LSTM encoder, Luong
attention with input feeding, words seen at least twice. The dev set is decoded and scored with
BLEU during training and the best-scoring model is the one saved. `--max-minutes` bounds the run.
"""

run("train", "--data", str(data / "train.tsv"), "--dev", str(data / "dev.tsv"), "--source-lang", "spa",
    "--preset", args.preset, "--max-minutes", str(args.minutes), "--out", args.out, *shlex.split(args.extra))

"""
## Translate

`translate` reads lines from stdin or `--input` and writes one line per input. Beam search with
five hypotheses usually beats greedy search by a BLEU point or two.
"""

sentences = Path(args.out) / "example-input.txt"
sentences.write_text("¿Dónde está la estación de tren?\nMe gusta leer libros por la noche.\n"
                     "Mañana vamos a la playa con mis amigos.\n", encoding="utf-8")
run("translate", "--model", args.out, "--input", str(sentences), "--beam-size", "5")

"""
## Evaluate

`evaluate` translates the test split and scores it with sacrebleu (BLEU and chrF on detokenised
text against the raw references: the figures compare with other toolkits').
"""

run("evaluate", "--model", args.out, "--data", str(data / "test.tsv"), "--source-lang", "spa",
    "--beam-size", "5", "--samples", "5")
