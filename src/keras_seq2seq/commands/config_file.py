"""`seq2seq train --config FILE`: a YAML file of train options, under the command line's flags.

A value in the file goes through the same checks as its flag (`epochs: 0` fails as `--epochs 0`
does), and a key that is no option is an error naming the file and its line. The file format is
`run_config.py`'s; `seq2seq config` prints such files.
"""

from __future__ import annotations

import argparse
import difflib

from keras_seq2seq.errors import ConfigError

_BOOLEAN_ACTIONS = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction)
_SETTING_VALUES = ("tokenizer", "source_tokenizer", "target_tokenizer")  # may also be a whole setting


def apply_config_file(args) -> argparse.Namespace:
    """`args` with the options of `args.config` filled in where the command line gave none.

    The file's values become the parser's defaults and the command line is parsed again, so a flag
    typed there wins, exactly as if it came after the file's options.
    """
    from keras_seq2seq.run_config import load

    parser = args.parser
    actions = {action.dest: action for action in parser._actions
               if action.option_strings and action.dest not in ("help", "config")}
    defaults = {}
    for key, (value, line) in load(args.config).items():
        where = f"{args.config}:{line}"
        if key == "config":
            raise ConfigError(f"{where}: config: a config file cannot name another one")
        if key not in actions:
            close = difflib.get_close_matches(key, list(actions), n=1)
            raise ConfigError(f"{where}: unknown option {key!r}" + (f" (did you mean {close[0]}?)" if close else "")
                              + "; the keys are `seq2seq train`'s options, e.g. learning_rate for --learning-rate")
        if value is not None:  # null: as if the key were absent
            defaults[key] = _checked(actions[key], key, value, where)
    parser.set_defaults(**defaults)
    command_line = args.argv[args.argv.index(args.command) + 1:]
    checked = parser.parse_args(command_line)  # the flags again: they win over the file
    checked.argv = args.argv
    return checked


def _checked(action: argparse.Action, key: str, value, where: str):
    """A file value, converted and checked as the option's flag would be."""
    if isinstance(action, _BOOLEAN_ACTIONS) or (isinstance(action, argparse._StoreConstAction)
                                                 and isinstance(action.const, bool)):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: expected true or false, got {value!r}")
        return value
    if key in _SETTING_VALUES and isinstance(value, dict):
        return value  # a whole tokeniser setting, checked with the settings
    if isinstance(value, (dict, list)) or (isinstance(value, bool) and action.type is not None):
        raise ConfigError(f"{where}: {key}: expected a single value, got {value!r}")
    text = str(value)
    if action.type is not None:
        try:
            value = action.type(text)
        except (argparse.ArgumentTypeError, ValueError) as error:
            raise ConfigError(f"{where}: {key} {error}") from None
    else:
        value = text
    if action.choices is not None and value not in action.choices:
        raise ConfigError(f"{where}: {key}: {value!r} is not one of {', '.join(map(str, action.choices))}")
    return value
