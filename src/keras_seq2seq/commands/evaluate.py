"""`seq2seq evaluate`: score a model on a test corpus or a built-in task's test split.

    seq2seq evaluate --model runs/dates --task dates
    seq2seq evaluate --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv --source-lang spa --beam-size 5

Prints a few sample outputs, then exact match, token accuracy, BLEU and chrF (sacreBLEU), the
decoding speed, and how many shapes decoding compiled.
"""

from __future__ import annotations

from keras_seq2seq.commands.options import (add_data_options, add_search_options, positive_int, search_options,
                                            task_or_data_pairs)


def register(commands, command) -> None:
    evaluate = command(commands, "evaluate", run, "score a model on a test corpus or a built-in task's test split")
    evaluate.add_argument("--model", required=True, metavar="DIR", help="model directory")
    add_data_options(evaluate, required=False)
    evaluate.add_argument("--samples", type=int, default=10, help="example outputs to print")
    evaluate.add_argument("--batch-size", type=positive_int, default=64, help="sentences decoded together")
    add_search_options(evaluate)


def run(args) -> int:
    from keras_seq2seq.commands.report import print_samples, print_scores
    from keras_seq2seq.translator import Translator

    options = search_options(args)
    translator = Translator.load(args.model)
    pairs = task_or_data_pairs(args, translator, "test")
    translator.use_shortlist(args.shortlist)
    result = translator.evaluate(pairs, args.batch_size, options=options)
    print_samples(pairs, result["hypotheses"], args.samples)
    print_scores(result)
    traced, bound = translator.compiled_shapes([p.source for p in pairs], args.batch_size)
    print(f"compiled shapes  {traced} (at most {bound})")
    return 0
