"""`seq2seq config`: a run's options as YAML, and `train --config FILE` reading them back.

    seq2seq config --preset tatoeba-small > run.yaml      # every setting of the preset
    seq2seq config --model runs/spa-eng > run.yaml        # what made a trained model
    seq2seq train --config run.yaml --out runs/again      # the same run again (flags change it)

The file format is `run_config.py`'s: `seq2seq train`'s option names as flat keys; `train`
reads it with `config_file.py`.
"""

from __future__ import annotations

import argparse
import sys

from keras_seq2seq.config import PRESETS


def register(commands, command) -> None:
    config = command(commands, "config", run,
                     "print a preset's or a trained model's options as YAML that `train --config` reads")
    which = config.add_mutually_exclusive_group(required=True)
    which.add_argument("--preset", choices=sorted(PRESETS), help="every setting of this preset")
    which.add_argument("--model", metavar="DIR",
                       help="the options a trained model was made with: its data, reading and settings")


def run(args) -> int:
    from keras_seq2seq.config import preset
    from keras_seq2seq.run_config import dump, options_of

    if args.preset:
        options = {"preset": args.preset, **options_of(preset(args.preset))}
        header = (f"Every setting of the preset {args.preset}. Add data (data: FILE, dev: FILE, ...) and run\n"
                  f"seq2seq train --config FILE --out DIR; flags given there win over this file.")
    else:
        from keras_seq2seq.artifacts import read_config
        from keras_seq2seq.run_config import run_options

        options = run_options(read_config(args.model))
        header = (f"The options that made {args.model}. Repeat or vary the run with\n"
                  f"seq2seq train --config FILE --out DIR; flags given there win over this file.")
    sys.stdout.write(dump(options, comments=train_comments(), header=header))
    return 0


def train_comments() -> dict[str, str]:
    """Each train option's help, to comment the YAML lines with."""
    from keras_seq2seq.commands import train
    from keras_seq2seq.commands.options import Parser

    commands = Parser(prog="seq2seq").add_subparsers()
    train.register(commands, lambda group, name, run, help_text: group.add_parser(name))
    parser = commands.choices["train"]
    return {action.dest: " ".join(action.help.split()) for action in parser._actions
            if action.help and action.help != argparse.SUPPRESS}
