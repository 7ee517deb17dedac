"""`seq2seq evaluate`: score a model on a test corpus or a built-in task's test split.

    seq2seq evaluate --model runs/dates --task dates
    seq2seq evaluate --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv --source-lang spa --beam-size 5
    seq2seq evaluate --model runs/en-zh --data ../shared/data/cmn-eng/test.tsv --source-lang eng --target-lang zh

Prints a few sample outputs, then exact match, token accuracy, BLEU and chrF (sacreBLEU), the
decoding speed, and how many shapes decoding compiled. Chinese output is scored with sacreBLEU's
`zh` tokenisation: give `--target-lang zh`, or let the references' script decide (printed, with
the sacreBLEU signatures).
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
    evaluate.add_argument("--target-lang", metavar="CODE",
                          help="language of the references, e.g. zh or cmn (BLEU tokenize=zh); "
                               "default: detected (Chinese or not)")
    add_search_options(evaluate)


def run(args) -> int:
    from keras_seq2seq.commands.report import print_samples, print_scores
    from keras_seq2seq.translator import Translator

    options = search_options(args)
    translator = Translator.load(args.model)
    pairs = task_or_data_pairs(args, translator, "test")
    translator.use_shortlist(args.shortlist)
    result = translator.evaluate(pairs, args.batch_size, options=options, target_lang=args.target_lang)
    print_samples(pairs, result["hypotheses"], args.samples)
    from keras_seq2seq.metrics import bleu_tokenization

    reason = (f"--target-lang {args.target_lang}" if args.target_lang else
              f"detected: the references are {'' if result['target_lang'] else 'not '}Chinese")
    print(f"BLEU tokenize    {bleu_tokenization(result['target_lang'])} ({reason})")
    print_scores(result)
    traced, bound = translator.compiled_shapes([p.source for p in pairs], args.batch_size)
    print(f"compiled shapes  {traced} (at most {bound})")
    return 0
