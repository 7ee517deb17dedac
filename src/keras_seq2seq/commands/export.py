"""`seq2seq export --model DIR --out EXPORT_DIR [--int8]`: a model for machines without Keras or JAX.

    seq2seq export --model runs/spa-eng --out exports/spa-eng --int8
    python -m keras_seq2seq.runtime --model exports/spa-eng --beam-size 5 < input.txt
    seq2seq translate --model exports/spa-eng < input.txt

Needs the optional extra: `pip install 'keras-seq2seq[export]'`. See docs/export.md.
"""

from __future__ import annotations

import sys


def register(commands, command) -> None:
    parser = command(commands, "export", run,
                     "export a model as ONNX graphs for the runtime that needs no Keras or JAX")
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory to export")
    parser.add_argument("--out", required=True, metavar="EXPORT_DIR", help="export directory to write")
    parser.add_argument("--format", choices=("onnx",), default="onnx", help="export format")
    parser.add_argument("--int8", action="store_true",
                        help="quantise the matrix products to int8: smaller and faster, BLEU moves a "
                             "little (docs/export.md has the figures)")


def run(args) -> int:
    from keras_seq2seq.export import export_model

    manifest = export_model(args.model, args.out, int8=args.int8)
    sizes = ", ".join(f"{graph['file']}" for graph in manifest["graphs"].values())
    print(f"export: {args.model} -> {args.out} ({manifest['precision']}, ONNX opset {manifest['opset']}; "
          f"{sizes}); translate with `python -m keras_seq2seq.runtime --model {args.out}`",
          file=sys.stderr)
    return 0
