"""`seq2seq evaluate`: score a model on a test corpus or a built-in task's test split.

    seq2seq evaluate --model runs/dates --task dates
    seq2seq evaluate --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv --source-lang spa --beam-size 5
    seq2seq evaluate --model runs/dd --data dd-test.tsv --source-column 0 --target-column 1 --beam-size 10 \
        --mmi-model runs/dd-reverse

Prints a few sample outputs, then exact match, token accuracy, BLEU and chrF (sacreBLEU), the
decoding speed, and how many shapes decoding compiled. A dialogue model (one trained on
`prepare-dialogue` pairs, or `--task-kind dialogue`) gets what dialogue papers report instead:
perplexity of the reference replies, BLEU with its sacreBLEU signature, Distinct-1 and -2, the
mean reply length and the share of the ten most frequent replies.
"""

from __future__ import annotations

from keras_seq2seq.commands.options import (add_data_options, add_mmi_options, add_sampling_options,
                                            add_search_options, mmi_reranker, positive_int, search_options,
                                            task_or_data_pairs)
from keras_seq2seq.errors import Seq2SeqError

TASK_KINDS = ("auto", "translation", "dialogue")


def register(commands, command) -> None:
    evaluate = command(commands, "evaluate", run, "score a model on a test corpus or a built-in task's test split")
    evaluate.add_argument("--model", required=True, metavar="DIR", help="model directory")
    add_data_options(evaluate, required=False)
    evaluate.add_argument("--samples", type=int, default=10, help="example outputs to print")
    evaluate.add_argument("--batch-size", type=positive_int, default=64, help="sentences decoded together")
    evaluate.add_argument("--task-kind", choices=TASK_KINDS, default="auto",
                          help="which scores to report; auto: dialogue for a model trained on "
                               "prepare-dialogue pairs, else translation")
    add_search_options(evaluate)
    evaluate.add_argument("--no-repeat-ngram", type=int, default=0, metavar="N",
                          help="never repeat an N-gram within an output (0: off)")
    add_sampling_options(evaluate, "sampling (dialogue; instead of greedy or beam search)", temperature=1.0,
                         top_p=1.0, seed_help="the same seed repeats the same samples")
    add_mmi_options(evaluate)


def run(args) -> int:
    from keras_seq2seq.commands.report import print_dialogue_scores, print_samples, print_scores
    from keras_seq2seq.translator import Translator

    options = search_options(args)
    reranker = mmi_reranker(args, args.batch_size)
    translator = Translator.load(args.model)
    kind = args.task_kind
    if kind == "auto":
        kind = "dialogue" if translator.info.get("data", {}).get("dialogue") else "translation"
    if reranker is not None and kind != "dialogue":
        raise Seq2SeqError("--mmi-model reranks dialogue replies: add --task-kind dialogue for this model")
    pairs = task_or_data_pairs(args, translator, "test")
    translator.use_shortlist(args.shortlist)
    if kind == "dialogue":
        result = translator.evaluate_dialogue(pairs, args.batch_size, options=options, reranker=reranker)
        print_samples(pairs, result["hypotheses"], args.samples)
        print_dialogue_scores(result)
    else:
        result = translator.evaluate(pairs, args.batch_size, options=options)
        print_samples(pairs, result["hypotheses"], args.samples)
        print_scores(result)
    traced, bound = translator.compiled_shapes([p.source for p in pairs], args.batch_size)
    print(f"compiled shapes  {traced} (at most {bound})")
    return 0
