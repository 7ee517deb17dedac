"""The `seq2seq` command: builds the parser from the sub-commands in `commands/`, and dispatches.

    seq2seq train --task dates --out runs/dates
    seq2seq train --data pairs.tsv --source-lang spa --out runs/spa-eng
    echo "March 3, 2021" | seq2seq translate --model runs/dates
    seq2seq evaluate --model runs/dates --task dates
    seq2seq demo

Every expected failure (bad corpus line, bad option, broken model directory) ends with one line
`seq2seq: error: ...` on stderr and exit status 2; nothing already saved is touched.

The command makes three process-wide choices the library leaves to its users, before anything
imports Keras: the backend (JAX unless KERAS_BACKEND is set, `backend.py`), malloc settings
that keep freed memory for the next training step (`allocator.py`), and a compile cache on disk
(`compile_cache.py`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from keras_seq2seq import __version__, allocator, backend, compile_cache
from keras_seq2seq.commands import MODULES
from keras_seq2seq.commands.options import HelpFormatter, Parser
from keras_seq2seq.errors import Seq2SeqError


def main(argv: list[str] | None = None) -> int:
    backend.use_default()  # JAX unless KERAS_BACKEND says otherwise
    allocator.keep_freed_memory()  # before XLA's threads first allocate (see module)
    compile_cache.enable()  # before JAX is imported: later starts skip compiling (see module)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # a command may parse its own again
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        backend.check_chosen()  # e.g. KERAS_BACKEND=torch without torch: say which extra
        return args.run(args) or 0
    except Seq2SeqError as error:
        print(f"seq2seq: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seq2seq: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="seq2seq",
        description="Sequence-to-sequence learning with Keras 3: train an RNN encoder-decoder on "
                    "pairs of sequences, then translate and evaluate with it.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"keras-seq2seq {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in MODULES:  # each module adds its own sub-command (and imports its heavy parts lazily)
        importlib.import_module(f"keras_seq2seq.commands.{name}").register(commands, add_command)
    return parser


def add_command(commands, name: str, run, help_text: str) -> argparse.ArgumentParser:
    """A sub-command parser whose `run(args)` is called when it is chosen."""
    sub = commands.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter)
    sub.set_defaults(run=run, command=name, parser=sub)
    return sub


if __name__ == "__main__":
    sys.exit(main())
