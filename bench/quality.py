"""Translation quality on real data: train for a fixed time budget, score on the test split.

    python bench/quality.py                       # spa→eng, 20 minutes, preset tatoeba-word
    python bench/quality.py --pair cmn-eng --minutes 10 --source-tokenizer char
    python bench/quality.py --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv

Reads `../shared/data/<pair>/{train,dev,test}.tsv` (Tatoeba, English first; the other language is
the source). Prints BLEU and chrF (sacrebleu defaults: 13a, cased, raw references), training
target tokens/s and decoding sentences/s; the last line is machine-readable:

    quality: pair=spa-eng bleu=30.1 chrf=50.2 minutes=20
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder of <pair>/ splits")
    parser.add_argument("--pair", default="spa-eng", help="language pair folder, e.g. spa-eng, cmn-eng")
    parser.add_argument("--minutes", type=float, default=20.0, help="training time budget")
    parser.add_argument("--preset", default="tatoeba-word", help="keras-seq2seq preset")
    parser.add_argument("--source-tokenizer", choices=("char", "word"), help="override the source tokeniser")
    parser.add_argument("--epochs", type=int, default=100, help="most epochs (the time budget usually ends first)")
    parser.add_argument("--out", type=Path, help="model directory (default runs/quality-<pair>)")
    parser.add_argument("--model", type=Path, help="score this trained model instead of training")
    parser.add_argument("--data", type=Path, help="with --model: the TSV to score (default: the pair's test.tsv)")
    parser.add_argument("--source-lang", help="with --model --data: source language of the TSV (default from --pair)")
    args = parser.parse_args()

    from keras_seq2seq import Translator
    from keras_seq2seq.data.corpus import read_corpus

    source_lang = args.source_lang or args.pair.split("-")[0]
    pair_dir = args.data_dir / args.pair
    if args.model:
        translator = Translator.load(args.model)
        test_file = args.data or pair_dir / "test.tsv"
        minutes = 0.0
    else:
        if not pair_dir.is_dir():
            print(f"quality: {pair_dir} not found; give --data-dir", file=sys.stderr)
            return 2
        train = list(read_corpus(pair_dir / "train.tsv", source_lang=source_lang))
        dev = list(read_corpus(pair_dir / "dev.tsv", source_lang=source_lang))
        out = args.out or Path("runs") / f"quality-{args.pair}"
        overrides = {"max_minutes": args.minutes, "epochs": args.epochs}
        if args.source_tokenizer:
            overrides["source_tokenizer"] = {"kind": args.source_tokenizer}
        started = time.perf_counter()
        translator = Translator.train(train, dev=dev, preset=args.preset, out_dir=out,
                                      info={"data": {"pair": args.pair}}, **overrides)
        minutes = (time.perf_counter() - started) / 60
        test_file = pair_dir / "test.tsv"
        print(f"model saved in {out}")

    test = list(read_corpus(test_file, source_lang=source_lang))
    translator.translate([p.source for p in test[:64]])  # compile outside the timed run
    result = translator.evaluate(test)
    record = translator.info.get("training", {})
    rows = [
        ("test file", str(test_file)),
        ("test sentences", f"{result['sentences']:,}"),
        ("BLEU", f"{result['bleu']:.1f}"),
        ("chrF", f"{result['chrf']:.1f}"),
        ("exact match", f"{result['exact_match']:.3f}"),
        ("epochs trained", str(record.get("epochs", "?"))),
        ("training minutes", f"{minutes:.1f}"),
        ("train target tokens/s", f"{record.get('target_tokens_per_second', 0):,.0f}"),
        ("greedy decode sentences/s", f"{result['sentences_per_second']:,.0f}"),
        ("<unk> in output", str(sum(h.count('<unk>') for h in result["hypotheses"]))),
    ]
    print("\n| keras-seq2seq | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for pair, hypothesis in list(zip(test, result["hypotheses"]))[:5]:
        print(f"  {pair.source}\n    → {hypothesis}\n    = {pair.target}")
    print(f"quality: pair={args.pair} bleu={result['bleu']:.1f} chrf={result['chrf']:.1f} minutes={minutes:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
