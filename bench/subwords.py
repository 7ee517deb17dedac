"""How long SentencePiece takes to learn its pieces, and how long sentences become in them.

Trains the subword models `seq2seq train --tokenizer sentencepiece` would train (source and
target separately, or one joint model) on a corpus's training side, and prints the seconds each
took and the mean tokens per sentence next to the word and character tokenisers. No NMT model
is trained.

    .venv/bin/python bench/subwords.py                                # spa-eng, unigram, 8000
    .venv/bin/python bench/subwords.py --model bpe --joint
    .venv/bin/python bench/subwords.py --data ../shared/data/cmn-eng/train.tsv --source-lang cmn

Last line: `subwords: model=unigram vocab=8000 joint=0 seconds=19.0 cpu_seconds=18.1 source_tokens=8.35 ...`
(seconds are wall time, which on a shared machine depends on the load; CPU seconds less so).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from keras_seq2seq.config import Settings  # noqa: E402
from keras_seq2seq.data.corpus import read_corpus  # noqa: E402
from keras_seq2seq.text.subwords import TRAINING_THREADS, train_subword_tokenizers  # noqa: E402
from keras_seq2seq.text.tokenizers import CharTokenizer, WordTokenizer  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "spa-eng" / "train.tsv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="Tatoeba/Anki TSV (English first)")
    parser.add_argument("--source-lang", default="spa", help="the source language of --data")
    parser.add_argument("--model", choices=("unigram", "bpe"), default="unigram")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--joint", action="store_true", help="one model for both sides")
    args = parser.parse_args()

    pairs = list(read_corpus(args.data, source_lang=args.source_lang))
    sources, targets = [p.source for p in pairs], [p.target for p in pairs]
    sp = {"kind": "sentencepiece"}
    text = Settings().updated(source_tokenizer=sp, target_tokenizer=sp, vocab_size=args.vocab_size,
                              subword_model=args.model, joint_vocab=args.joint).text
    started, cpu_started = time.perf_counter(), time.process_time()
    tokenizers = train_subword_tokenizers(text, sources, targets)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started

    print(f"{args.data}: {len(pairs):,} pairs; SentencePiece {args.model}, vocab_size {args.vocab_size}, "
          f"{'joint' if args.joint else 'separate'}: trained in {seconds:.1f} s "
          f"({cpu_seconds:.1f} s of CPU over its {TRAINING_THREADS} threads)")
    print(f"\n{'tokeniser':<14} {'vocabulary (src/tgt)':>22} {'tokens/sentence src':>20} {'tgt':>7}")
    rows = {"sentencepiece": (tokenizers["source"], tokenizers["target"]),
            "word": (WordTokenizer(), WordTokenizer()), "char": (CharTokenizer(), CharTokenizer())}
    means = {}
    for name, (source_tok, target_tok) in rows.items():
        source_lists = [source_tok.tokenize(s) for s in sources]
        target_lists = [target_tok.tokenize(t) for t in targets]
        means[name] = (sum(map(len, source_lists)) / len(pairs), sum(map(len, target_lists)) / len(pairs))
        sizes = (len(source_tok.pieces), len(target_tok.pieces)) if name == "sentencepiece" else (
            len({t for ts in source_lists for t in ts}) + 4, len({t for ts in target_lists for t in ts}) + 4)
        print(f"{name:<14} {f'{sizes[0]:,} / {sizes[1]:,}':>22} {means[name][0]:>20.2f} {means[name][1]:>7.2f}")
    ratio = [sp_mean / word_mean for sp_mean, word_mean in zip(means["sentencepiece"], means["word"])]
    print(f"\nsubwords: model={args.model} vocab={args.vocab_size} joint={int(args.joint)} seconds={seconds:.1f} cpu_seconds={cpu_seconds:.1f} "
          f"source_tokens={means['sentencepiece'][0]:.2f} target_tokens={means['sentencepiece'][1]:.2f} "
          f"word_source_tokens={means['word'][0]:.2f} word_target_tokens={means['word'][1]:.2f} "
          f"ratio_source={ratio[0]:.2f} ratio_target={ratio[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
