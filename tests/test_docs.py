"""The READMEs show commands that work: every `seq2seq ...` line in their shell code blocks names
a real sub-command, and every `--option` it passes is one that sub-command's parser knows (with
a value from its choices, where it has choices). Nothing is run: the lines are checked against
`build_parser()`, so an option renamed in the code and not in the docs fails here in a second.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from keras_seq2seq.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "README.zh-CN.md")
SHELL_BLOCKS = {"", "bash", "sh", "shell", "console"}
OPERATORS = {"|", "||", "&", "&&", ";", "<", ">", ">>", "2>", "(", ")"}
FENCE = re.compile(r"^```([\w+-]*)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def shell_lines(text: str) -> list[str]:
    """Logical lines of the shell code blocks: backslash continuations joined."""
    lines: list[str] = []
    for language, body in FENCE.findall(text):
        if language.lower() not in SHELL_BLOCKS:
            continue
        lines.extend(body.replace("\\\n", " ").splitlines())
    return lines


def seq2seq_invocations(line: str) -> list[list[str]]:
    """The argument lists of every `seq2seq` call on one shell line (comments and redirections cut)."""
    if not re.search(r"(^|[\s|;(/])seq2seq\s", line):
        return []
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)  # ValueError (unbalanced quotes) fails the test: a broken example
    calls: list[list[str]] = []
    for start, token in enumerate(tokens):
        if token == "seq2seq" or token.endswith("/seq2seq"):
            args: list[str] = []
            for argument in tokens[start + 1:]:
                if argument in OPERATORS:
                    break
                args.append(argument)
            calls.append(args)
    return calls


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def problems_with(args: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """What is wrong with one `seq2seq ARGS` call, as messages (empty when it is right)."""
    name = "seq2seq"
    # Walk down `seq2seq COMMAND [ACTION]`: each level's first positional picks the next parser.
    while (choices := subcommands(parser)):
        if not args or args[0].startswith("-"):
            return [f"`{name}` without a sub-command"]
        if args[0] not in choices:
            return [f"`{name} {args[0]}`: no such sub-command (known: {', '.join(choices)})"]
        name, parser, args = f"{name} {args[0]}", choices[args[0]], args[1:]
    options = {option: action for action in parser._actions for option in action.option_strings}
    found = []
    for i, argument in enumerate(args):
        if not argument.startswith("--"):
            continue
        option, _, inline = argument.partition("=")
        if option not in options:
            found.append(f"`{name}` has no option {option}")
            continue
        action = options[option]
        value = inline or (args[i + 1] if i + 1 < len(args) else "")
        if action.choices and action.nargs != 0 and value and value != "..." and value not in action.choices:
            found.append(f"`{name} {option} {value}`: not one of {sorted(action.choices)}")
    return found


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser()


@pytest.mark.parametrize("readme", READMES)
def test_every_command_in_the_readme_parses(readme, parser):
    text = (ROOT / readme).read_text(encoding="utf-8")
    calls = [args for line in shell_lines(text) for args in seq2seq_invocations(line)]
    problems = [f"seq2seq {' '.join(args)}\n    {problem}"
                for args in calls for problem in problems_with(args, parser)]
    assert not problems, f"{readme}:\n" + "\n".join(problems)
    # Not vacuous: the README does show the main commands.
    shown = {args[0] for args in calls if args}
    assert {"train", "translate", "evaluate", "serve", "chat", "data"} <= shown, shown
    assert len(calls) >= 20


@pytest.mark.parametrize("readme", READMES)
def test_the_readme_gives_the_two_setup_commands_and_links_the_other(readme):
    text = (ROOT / readme).read_text(encoding="utf-8")
    lines = {line.split("#")[0].strip() for line in shell_lines(text)}
    assert {"make demo", "make test"} <= lines
    other = next(name for name in READMES if name != readme)
    assert other in "\n".join(text.splitlines()[:5]), f"{readme} should link {other} at the top"


def test_the_checker_catches_wrong_commands(parser):
    assert problems_with(["train", "--task", "dates", "--out", "x"], parser) == []
    assert problems_with(["data", "download", "spa-eng", "--to", "d"], parser) == []
    assert problems_with(["train", "--no-bidirectional", "--preset=tatoeba-small"], parser) == []
    assert problems_with(["trian", "--out", "x"], parser)
    assert problems_with(["translate", "--beam", "5"], parser)
    assert problems_with(["train", "--attention", "luong"], parser)
    assert problems_with(["data", "fetch", "spa-eng"], parser)
    assert seq2seq_invocations('echo "a b" | seq2seq translate --model m < in.txt  # out') == [
        ["translate", "--model", "m"]]
    assert seq2seq_invocations("pip install keras_seq2seq") == []
