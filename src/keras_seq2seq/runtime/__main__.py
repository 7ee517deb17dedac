"""`python -m keras_seq2seq.runtime --model EXPORT_DIR < in.txt`: translate lines with an export.

The runtime's own command, for machines that carry only numpy, onnxruntime and sentencepiece:
one output line per input line (with `--n-best N`, N lines per input in Moses form). Errors end
with one line `seq2seq-runtime: error: ...` and exit status 2.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keras_seq2seq.runtime",
                                     description="translate stdin line by line with an ONNX export "
                                                 "(made by `seq2seq export`)",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", required=True, metavar="EXPORT_DIR", help="export directory")
    parser.add_argument("--beam-size", type=int, default=1, help="hypotheses kept per sentence; 1 is greedy")
    parser.add_argument("--length-penalty", type=float, default=0.0, metavar="ALPHA",
                        help="GNMT length penalty for beam search")
    parser.add_argument("--n-best", type=int, default=1, help="outputs per input (at most --beam-size)")
    parser.add_argument("--batch-size", type=int, default=64, help="sentences decoded together")
    parser.add_argument("--shortlist", type=int, default=0, metavar="SIZE",
                        help="score only SIZE likely target words per batch (0: all)")
    parser.add_argument("--replace-unk", action="store_true",
                        help="attention models: copy the most attended source word for each <unk>")
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: one per core)")
    args = parser.parse_args(argv)

    from keras_seq2seq.errors import Seq2SeqError
    from keras_seq2seq.runtime import load

    try:
        if args.beam_size < 1 or args.batch_size < 1 or not 1 <= args.n_best <= args.beam_size:
            raise Seq2SeqError("--beam-size and --batch-size must be at least 1, and --n-best between 1 "
                               "and --beam-size")
        translator = load(args.model, threads=args.threads)
        translator.use_shortlist(args.shortlist)
        try:
            text = sys.stdin.buffer.read().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise Seq2SeqError(f"stdin: not valid UTF-8 ({error.reason} at byte {error.start})") from None
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines = lines[:-1] if lines[-1] == "" else lines
        outputs = translator.translate_n_best(lines, args.n_best, args.batch_size, args.beam_size,
                                              args.length_penalty, replace_unk=args.replace_unk)
    except (Seq2SeqError, ValueError) as error:
        print(f"seq2seq-runtime: error: {error}", file=sys.stderr)
        return 2
    if args.n_best == 1:
        sys.stdout.write("".join(hypotheses[0][0] + "\n" for hypotheses in outputs))
    else:
        sys.stdout.write("".join(f"{i} ||| {text} ||| {score:.4f}\n"
                                 for i, hypotheses in enumerate(outputs) for text, score in hypotheses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
