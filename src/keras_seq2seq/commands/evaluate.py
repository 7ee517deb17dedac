"""`seq2seq evaluate`: score a model on a test corpus or a built-in task's test split.

    seq2seq evaluate --model runs/dates --task dates
    seq2seq evaluate --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv --source-lang spa --beam-size 5
    seq2seq evaluate --model runs/en-zh --data ../shared/data/cmn-eng/test.tsv --source-lang eng --target-lang zh
    seq2seq evaluate --model runs/dd --data dd-test.tsv --beam-size 10 \
        --mmi-model runs/dd-reverse

Prints a few sample outputs, then exact match, token accuracy, BLEU and chrF (sacreBLEU, each
with its signature, so that a score can be quoted and compared), the decoding speed, and how many
shapes decoding compiled. Chinese output is scored with sacreBLEU's `zh` tokenisation: give
`--target-lang zh`, or let the references' script decide (printed, and in the signature).
A dialogue model (one trained on `prepare-dialogue` pairs, or `--task-kind dialogue`) gets what
dialogue papers report instead: perplexity of the reference replies, BLEU with its sacreBLEU
signature, Distinct-1 and -2, the mean reply length and the share of the ten most frequent
replies (Chinese replies counted in characters, as BLEU's `zh` tokenisation cuts them).
`--output FILE` keeps the outputs (one line per test pair), `--json FILE` the scores.

    seq2seq evaluate --model runs/dates --task dates --output hyp.txt --json scores.json
"""

from __future__ import annotations

from pathlib import Path

from keras_seq2seq.commands.options import (add_data_options, add_mmi_options, add_sampling_options,
                                            add_search_options, check_mmi, mmi_reranker, positive_int, search_options,
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
    evaluate.add_argument("--target-lang", metavar="CODE",
                          help="language of the references, e.g. zh or cmn (BLEU tokenize=zh); "
                               "default: detected (Chinese or not)")
    add_search_options(evaluate)
    evaluate.add_argument("--no-repeat-ngram", type=int, default=0, metavar="N",
                          help="never repeat an N-gram within an output (0: off)")
    add_sampling_options(evaluate, "sampling (dialogue; instead of greedy or beam search)", temperature=1.0,
                         top_p=1.0, seed_help="the same seed repeats the same samples")
    add_mmi_options(evaluate)
    group = evaluate.add_argument_group("results")
    group.add_argument("--output", metavar="FILE", help="write the outputs to FILE, one line per test pair, in order")
    group.add_argument("--json", metavar="FILE",
                       help="write the scores, their sacreBLEU signatures, the data and the search to FILE as JSON")


def run(args) -> int:
    from keras_seq2seq.commands.report import print_dialogue_scores, print_samples, print_scores
    from keras_seq2seq.data.dialogue import recorded_context_turns
    from keras_seq2seq.metrics import bleu_tokenization
    from keras_seq2seq.translator import Translator

    options = search_options(args)
    check_mmi(args)
    if args.mmi_model and args.task_kind == "translation":
        raise Seq2SeqError("--mmi-model reranks dialogue replies, not translations: leave out --task-kind translation")
    translator = Translator.load(args.model)
    kind = args.task_kind
    if kind == "auto":
        kind = "dialogue" if recorded_context_turns(translator.info) else "translation"
    if args.mmi_model and kind != "dialogue":  # before the reverse model loads
        raise Seq2SeqError("--mmi-model reranks dialogue replies: add --task-kind dialogue for this model")
    reranker = mmi_reranker(args, args.batch_size)
    pairs = task_or_data_pairs(args, translator, "test")
    translator.use_shortlist(args.shortlist)
    if kind == "dialogue":
        result = translator.evaluate_dialogue(pairs, args.batch_size, options=options, reranker=reranker,
                                              draws=args.draws, target_lang=args.target_lang)
    else:
        result = translator.evaluate(pairs, args.batch_size, options=options, target_lang=args.target_lang)
    print_samples(pairs, result["hypotheses"], args.samples)
    reason = (f"--target-lang {args.target_lang}" if args.target_lang else
              f"detected: the references are {'' if result['target_lang'] else 'not '}Chinese")
    print(f"BLEU tokenize    {bleu_tokenization(result['target_lang'])} ({reason})")
    (print_dialogue_scores if kind == "dialogue" else print_scores)(result)
    write_results(args, options, result)
    traced, bound = translator.compiled_shapes([p.source for p in pairs], args.batch_size)
    print(f"compiled shapes  {traced} (at most {bound})")
    return 0


def write_results(args, options, result: dict) -> None:
    """--output (the outputs, one per line) and --json (the scores and how they were made)."""
    import dataclasses
    import json

    from keras_seq2seq.files import atomic_write_text

    if args.output:
        atomic_write_text(Path(args.output), "".join(_one_line(text) + "\n" for text in result["hypotheses"]))
    if args.json:
        scores = {key: value for key, value in result.items() if key != "hypotheses"}
        record = {"model": str(args.model), "data": args.data or f"task {args.task} (test split)",
                  "search": dataclasses.asdict(options), "draws": args.draws,
                  "mmi": {"model": args.mmi_model, "weight": args.mmi_weight} if args.mmi_model else None, **scores}
        atomic_write_text(Path(args.json), json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")


def _one_line(text: str) -> str:
    """An output as one line: line breaks inside it (rare, but a model can write any token) become spaces."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text
