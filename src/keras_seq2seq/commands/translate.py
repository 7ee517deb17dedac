"""`seq2seq translate`: lines in, translations out (greedy, beam, n-best, sampling, attention plots).

    echo "¿Dónde está la estación?" | seq2seq translate --model runs/spa-eng --beam-size 5
    seq2seq translate --model runs/spa-eng --input in.txt --output out.txt --n-best 3 --beam-size 5

There is exactly one output line per input line (with `--n-best N`, N lines per input, in Moses
form), so outputs stay aligned with inputs whatever the text holds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from keras_seq2seq.commands.options import (add_mmi_options, add_sampling_options, add_search_options, mmi_reranker,
                                            positive_int, search_options)
from keras_seq2seq.errors import Seq2SeqError


def register(commands, command) -> None:
    translate = command(commands, "translate", run,
                        "translate lines from stdin or --input, one output line per input line")
    translate.add_argument("--model", required=True, metavar="DIR",
                           help="model directory, or an ONNX export directory (`seq2seq export`)")
    translate.add_argument("--input", metavar="FILE", help="read sentences from FILE instead of stdin")
    translate.add_argument("--output", metavar="FILE", help="write translations to FILE instead of stdout")
    translate.add_argument("--batch-size", type=positive_int, default=64, help="sentences decoded together")
    add_search_options(translate)
    translate.add_argument("--n-best", type=positive_int, default=1,
                           help="with N > 1, write N lines per input in Moses n-best form "
                                "'INDEX ||| TEXT ||| SCORE' (N at most --beam-size)")
    add_sampling_options(translate, "sampling (for dialogue; instead of greedy or beam search)",
                         temperature=1.0, top_p=1.0, seed_help="the same seed repeats the same samples")
    translate.add_argument("--no-repeat-ngram", type=int, default=0, metavar="N",
                           help="never repeat an N-gram within an output (any search; 0: off)")
    add_mmi_options(translate)
    translate.add_argument("--plot-attention", metavar="DIR",
                           help="attention models: write one PNG heat map per input line to DIR "
                                "(DIR/0001.png, …): source tokens across, output tokens down")
    translate.add_argument("--verbose", action="store_true",
                           help="also print to stderr how many lines were translated, in how many "
                                "seconds, and how many shapes were compiled (and the most allowed)")


def _input_lines(text: str) -> list[str]:
    """Lines ended by \\n, \\r\\n or \\r only, so there is one output line per input line.

    `str.splitlines()` also splits at form feeds, U+0085, U+2028 and other characters that can
    sit inside a sentence, which made the output longer than the input and misaligned.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def _load(directory: str):
    """A `Translator`, or for an ONNX export directory the runtime's translator (no Keras)."""
    from keras_seq2seq.runtime.manifest import is_export

    if is_export(directory):
        from keras_seq2seq.runtime import load

        return load(directory)
    from keras_seq2seq.translator import Translator

    return Translator.load(directory)


def run(args) -> int:
    started = time.perf_counter()
    options = search_options(args)  # checked before the model loads
    reranker = mmi_reranker(args, args.batch_size)
    if reranker is not None and args.plot_attention:
        raise Seq2SeqError("--plot-attention draws the beam's own best output; leave out --mmi-model")
    if args.plot_attention:
        from keras_seq2seq.extras import require

        require("plot", "--plot-attention")
    translator = _load(args.model)
    if args.input:
        from keras_seq2seq.files import read_text_file

        lines = _input_lines(read_text_file(Path(args.input), Seq2SeqError))
    else:
        try:
            lines = _input_lines(sys.stdin.buffer.read().decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            raise Seq2SeqError(f"stdin: not valid UTF-8 ({error.reason} at byte {error.start})") from None
        except AttributeError:  # a text stream without a buffer (tests, embedding)
            lines = _input_lines(sys.stdin.read())
    translator.use_shortlist(args.shortlist)
    if args.plot_attention:
        outputs = _translate_and_plot(translator, lines, args, options)
    elif reranker is not None or args.draws > 1:  # every candidate (beam or draws) ranked; the best --n-best kept
        if args.draws > 1 and not hasattr(translator, "reply_candidates"):
            raise Seq2SeqError(f"{args.model} is an exported model: --draws needs the model directory train wrote")
        outputs = (translator.reply_candidates(lines, args.batch_size, options=options, draws=args.draws)
                   if args.draws > 1 else
                   translator.translate_n_best(lines, batch_size=args.batch_size,
                                               options=options.replace(n_best=options.beam_size)))
        outputs = (reranker.rerank(lines, outputs) if reranker is not None else
                   [sorted(hypotheses, key=lambda candidate: -candidate[1]) for hypotheses in outputs])
        outputs = [hypotheses[: args.n_best] for hypotheses in outputs]
    else:
        outputs = translator.translate_n_best(lines, batch_size=args.batch_size, options=options)
    if args.n_best == 1:
        text = "".join(hypotheses[0][0] + "\n" for hypotheses in outputs)
    else:
        text = "".join(f"{i} ||| {hypothesis} ||| {score:.4f}\n"
                       for i, hypotheses in enumerate(outputs) for hypothesis, score in hypotheses)
    if args.output:
        from keras_seq2seq.files import atomic_write_text

        try:
            atomic_write_text(Path(args.output), text)
        except OSError as error:
            raise Seq2SeqError(f"{args.output}: cannot write ({error.strerror})") from None
    else:
        sys.stdout.write(text)
    if args.verbose and getattr(translator, "exported", False):
        print(f"translate: {len(lines):,} lines in {time.perf_counter() - started:.1f} s (model loading "
              f"included); ONNX export, {translator.precision}", file=sys.stderr)
    elif args.verbose:
        traced, bound = translator.compiled_shapes(lines, args.batch_size)
        print(f"translate: {len(lines):,} lines in {time.perf_counter() - started:.1f} s (model loading "
              f"included); {traced} compiled shapes (at most {bound})", file=sys.stderr)
    return 0


def _translate_and_plot(translator, lines: list[str], args, options) -> list:
    """Translate with the attention collected, plot each best hypothesis, return the n-best."""
    from keras_seq2seq.plotting import plot_alignments

    found = translator.align_n_best(lines, args.batch_size, options=options)
    try:
        paths = plot_alignments([hypotheses[0] for hypotheses in found], args.plot_attention)
    except OSError as error:
        raise Seq2SeqError(f"{args.plot_attention}: cannot write attention plots ({error.strerror})") from None
    print(f"{len(paths)} attention plot(s) written to {args.plot_attention}", file=sys.stderr)
    return [[(a.text, a.score) for a in hypotheses] for hypotheses in found]
