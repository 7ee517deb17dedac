"""`seq2seq shortlist --model DIR --data TRAIN`: build a model's vocabulary shortlist.

    seq2seq shortlist --model runs/spa-eng --data ../shared/data/spa-eng/train.tsv --source-lang spa
    seq2seq translate --model runs/spa-eng --beam-size 5 --shortlist 2048 < input.txt

`seq2seq train` builds the shortlist itself (except from a streamed corpus); this command is for
models trained without one, or to rebuild it with other sizes. See `search/shortlist.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(commands, command) -> None:
    from keras_seq2seq.cli import _add_data_options, _positive_int  # cli is loaded: it is the one calling us

    parser = command(commands, "shortlist", run,
                     "build the vocabulary shortlist of a model from its training pairs")
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory")
    _add_data_options(parser, required=False)
    parser.add_argument("--frequent", type=_positive_int, default=500,
                        help="most frequent target words, always on the list")
    parser.add_argument("--per-source", type=_positive_int, default=10,
                        help="likeliest target words kept for each source word")


def run(args) -> int:
    from keras_seq2seq.cli import _read_pairs, _task_data
    from keras_seq2seq.errors import Seq2SeqError
    from keras_seq2seq.search.shortlist import FILE, Shortlist
    from keras_seq2seq.training import encode_pairs
    from keras_seq2seq.translator import Translator

    translator = Translator.load(args.model)
    if bool(args.task) == bool(args.data):
        raise Seq2SeqError("give exactly one of --task NAME or --data FILE (the training pairs)")
    if args.task:
        size = translator.info.get("data", {}).get("train_pairs", 20000)
        pairs = _task_data(args.task, size, translator.settings.train.seed)["train"]
    else:
        pairs = _read_pairs(args, args.data, args.target_data)
    sources, targets, _ = encode_pairs(translator, pairs, None, None)
    shortlist = Shortlist.build(sources, targets, len(translator.source_vocab), len(translator.target_vocab),
                                frequent=args.frequent, per_source=args.per_source)
    shortlist.save(Path(args.model))
    print(f"shortlist: {len(sources):,} training pairs; {len(shortlist.frequent):,} frequent target "
          f"words + up to {shortlist.per_source} per source word -> {Path(args.model) / FILE}",
          file=sys.stderr)
    return 0
