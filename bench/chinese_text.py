"""How each tokeniser cuts the Chinese side of a Tatoeba pair, and what the script conversion changes.

    python bench/chinese_text.py --pair cmn-eng

Why: Chinese has no spaces, so the choice of tokens (characters, SentencePiece pieces, jieba
words) sets the sequence length and the vocabulary the model must learn; and Tatoeba mixes
Traditional and Simplified characters. For every split this counts the lines that hold
Traditional characters (lines OpenCC's t2s changes); then, on the training side, for each
tokeniser with and without t2s: tokens per sentence, distinct tokens, those seen once, and the
lines that do not read back exactly. Needs the zh extra (`pip install -e '.[zh]'`). Last line:

    chinese_text: pair=… traditional_lines=…% characters=… characters_t2s=…
"""

from __future__ import annotations

import sys
import time
from collections import Counter

from common import add_pair_arguments, argument_parser, last_line, pair_dir, print_table

# (label, tokeniser settings, SentencePiece pieces or None)
TOKENISERS = [("char", {"kind": "char"}, None), ("word", {"kind": "word"}, None), ("jieba", {"kind": "jieba"}, None),
              ("sentencepiece 4k", {"kind": "sentencepiece"}, 4000),
              ("sentencepiece 8k", {"kind": "sentencepiece"}, 8000)]


def main() -> int:
    parser = argument_parser(__doc__)
    add_pair_arguments(parser)
    parser.set_defaults(pair="cmn-eng")
    parser.add_argument("--column", type=int, default=1, help="the Chinese column of the TSVs (English is 0)")
    args = parser.parse_args()

    from keras_seq2seq.text.factory import tokenizer_from_config
    from keras_seq2seq.text.scripts import converter
    from keras_seq2seq.text.subwords import SentencePieceTokenizer

    folder = pair_dir("chinese_text", args.data_dir, args.pair, ("train", "dev", "test"))
    to_simplified = converter("t2s")
    lines, rows = {}, []
    for split in ("train", "dev", "test"):
        with open(folder / f"{split}.tsv", encoding="utf-8") as handle:
            lines[split] = [row.rstrip("\n").split("\t")[args.column] for row in handle if row.count("\t") >= 1]
        traditional = sum(to_simplified(line) != line for line in lines[split])
        rows.append([split, f"{len(lines[split]):,}", f"{traditional:,}", f"{traditional / len(lines[split]):.1%}"])
    print_table(["split", "lines", "with Traditional characters", "share"], rows)

    train = lines["train"]
    characters = len(set("".join(train)) - {" "})
    characters_t2s = len(set("".join(to_simplified(line) for line in train)) - {" "})
    rows = []
    for label, config, pieces in TOKENISERS:
        for convert in (None, "t2s"):
            started = time.perf_counter()
            settings = {**config, **({"convert": convert} if convert else {})}
            if pieces:
                tokenizer = SentencePieceTokenizer.train(train, vocab_size=pieces, convert=convert)
            else:
                tokenizer = tokenizer_from_config(settings)
            tokens = [tokenizer.tokenize(line) for line in train]
            counts = Counter(token for line in tokens for token in line)
            inexact = sum(tokenizer.detokenize(t) != tokenizer.prepare(line) for t, line in zip(tokens, train))
            rows.append([label, convert or "", f"{sum(map(len, tokens)) / len(train):.1f}", f"{len(counts):,}",
                         f"{sum(c == 1 for c in counts.values()):,}", f"{inexact:,}",
                         f"{time.perf_counter() - started:.1f}"])
    print(f"\ntraining side of {folder}: {len(train):,} lines")
    print_table(["tokeniser", "convert", "tokens per sentence", "distinct tokens", "seen once",
                 "lines not read back exactly", "seconds"], rows)
    share = sum(to_simplified(line) != line for line in train) / len(train)
    last_line("chinese_text", {"pair": args.pair, "traditional_lines": f"{share:.1%}", "characters": characters,
                               "characters_t2s": characters_t2s})
    return 0


if __name__ == "__main__":
    sys.exit(main())
