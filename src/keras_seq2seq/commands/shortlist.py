"""`seq2seq shortlist --model DIR --data TRAIN`: build a model's vocabulary shortlist.

    seq2seq shortlist --model runs/spa-eng --data ../shared/data/spa-eng/train.tsv --source-lang spa
    seq2seq translate --model runs/spa-eng --beam-size 5 --shortlist 2048 < input.txt

`seq2seq train` builds the shortlist itself (except from a streamed corpus); this command is for
models trained without one, or to rebuild it with other sizes. See `search/shortlist.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from keras_seq2seq.commands.options import add_data_options, positive_int, task_or_data_pairs


def register(commands, command) -> None:
    parser = command(commands, "shortlist", run,
                     "build the vocabulary shortlist of a model from its training pairs")
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory")
    add_data_options(parser, required=False)
    parser.add_argument("--frequent", type=positive_int, default=500,
                        help="most frequent target words, always on the list")
    parser.add_argument("--per-source", type=positive_int, default=10,
                        help="likeliest target words kept for each source word")


def run(args) -> int:
    from keras_seq2seq.data.training_data import PairList
    from keras_seq2seq.search.shortlist import FILE, Shortlist
    from keras_seq2seq.translator import Translator

    translator = Translator.load(args.model)
    pairs = task_or_data_pairs(args, translator, "train")
    sources, targets, _ = PairList(pairs).encoded(translator.bundle.encode_pair)
    shortlist = Shortlist.build(sources, targets, len(translator.source_vocab), len(translator.target_vocab),
                                frequent=args.frequent, per_source=args.per_source)
    shortlist.save(Path(args.model))
    print(f"shortlist: {len(sources):,} training pairs; {len(shortlist.frequent):,} frequent target "
          f"words + up to {shortlist.per_source} per source word -> {Path(args.model) / FILE}",
          file=sys.stderr)
    return 0
