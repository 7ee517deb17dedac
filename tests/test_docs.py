"""The docs show commands that work and links that lead somewhere.

Every `seq2seq ...` line in the shell code blocks of the READMEs, `bench/README.md` and the pages
under `docs/` (English and Chinese) names a real sub-command, and every `--option` it passes is one
that sub-command's parser knows (with a value from its choices, where it has choices). Nothing is
run: the lines are checked against `build_parser()`, so an option renamed in the code and not in
the docs fails here in a second. Every relative link and image points to a file that exists, and
every `#anchor` to a heading of that file.
"""

from __future__ import annotations

import argparse
import re
import shlex
import unicodedata
from pathlib import Path

import pytest

from keras_seq2seq.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "README.zh-CN.md")
# Every page a user reads: the two READMEs, the benchmarks' README, the manual in both languages.
PAGES = (*READMES, "bench/README.md",
         *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docs").glob("**/*.md")))
SHELL_BLOCKS = {"", "bash", "sh", "shell", "console"}
OPERATORS = {"|", "||", "&", "&&", ";", "<", ">", ">>", "2>", "(", ")"}
FENCE = re.compile(r"^```([\w+-]*)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


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


def command_names(args: list[str], parser: argparse.ArgumentParser) -> str:
    """`["data", "split", "x"]` -> "data split": the sub-command path a call names."""
    names = []
    while (choices := subcommands(parser)) and args and args[0] in choices:
        names.append(args[0])
        parser, args = choices[args[0]], args[1:]
    return " ".join(names)


def all_command_names(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    """Every leaf sub-command of the parser: {"train", ..., "data download", "data split"}."""
    names = set()
    for name, sub in subcommands(parser).items():
        full = f"{prefix} {name}".strip()
        names |= all_command_names(sub, full) if subcommands(sub) else {full}
    return names


def calls_in(page: str) -> list[list[str]]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return [args for line in shell_lines(text) for args in seq2seq_invocations(line)]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(ch for ch in heading.strip().lower()
                   if ch.isalnum() or ch in " -_" or unicodedata.category(ch).startswith("M"))
    return kept.replace(" ", "-")


def anchors_of(text: str) -> set[str]:
    """The anchors of a Markdown page's headings (code blocks skipped; repeats get -1, -2, …)."""
    found: set[str] = set()
    for line in FENCE.sub("", text).splitlines():
        match = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = github_slug(match.group(1))
            anchor, n = slug, 0
            while anchor in found:
                n += 1
                anchor = f"{slug}-{n}"
            found.add(anchor)
    return found


def broken_links(page: Path) -> list[str]:
    """Relative links and images of `page` whose file, or whose #anchor, does not exist."""
    text = page.read_text(encoding="utf-8")
    prose = re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))  # links in code are not links
    broken = []
    for target in LINK.findall(prose):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors_of(file.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading with that anchor")
    return broken


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser()


@pytest.mark.parametrize("page", PAGES)
def test_every_command_in_the_docs_parses(page, parser):
    problems = [f"seq2seq {' '.join(args)}\n    {problem}"
                for args in calls_in(page) for problem in problems_with(args, parser)]
    assert not problems, f"{page}:\n" + "\n".join(problems)


@pytest.mark.parametrize("readme", READMES)
def test_the_readme_tours_the_main_commands(readme, parser):
    shown = {command_names(args, parser) for args in calls_in(readme)}
    assert {"train", "translate", "evaluate", "serve", "data download"} <= shown, shown


def test_every_subcommand_is_shown_somewhere_in_each_language(parser):
    """Each sub-command is shown in a runnable example in English and in Chinese."""
    english = [page for page in PAGES if "zh" not in Path(page).parts and not page.endswith("zh-CN.md")]
    chinese = [page for page in PAGES if page not in english]
    for pages in (english, chinese):
        shown = {command_names(args, parser) for page in pages for args in calls_in(page)}
        missing = all_command_names(parser) - shown
        assert not missing, f"no example of {sorted(missing)} in {pages}"


@pytest.mark.parametrize("readme", READMES)
def test_the_readme_gives_the_two_setup_commands_and_links_the_other(readme):
    text = (ROOT / readme).read_text(encoding="utf-8")
    lines = {line.split("#")[0].strip() for line in shell_lines(text)}
    assert {"make demo", "make test"} <= lines
    other = next(name for name in READMES if name != readme)
    assert other in "\n".join(text.splitlines()[:5]), f"{readme} should link {other} at the top"


@pytest.mark.parametrize("page", PAGES)
def test_every_link_leads_somewhere(page):
    assert not broken_links(ROOT / page), broken_links(ROOT / page)


def test_the_docs_pages_are_found():
    assert {"docs/training.md", "docs/decoding.md", "docs/data.md", "docs/serving.md",
            "docs/performance.md", "docs/architecture.md", "docs/zh/README.md"} <= set(PAGES)


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
    assert command_names(["data", "split", "f", "--to", "d"], parser) == "data split"
    assert {"train", "data download", "data split", "prepare-dialogue"} <= all_command_names(parser)


def test_the_link_checker_catches_broken_links(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## Faster decoding: `--shortlist`\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md) [ok](other.md#faster-decoding---shortlist) [web](https://x.org/y)\n"
                    "`[not a link](nowhere.md)`\n"
                    "```\n[in code](nowhere.md)\n```\n"
                    "[gone](missing.md) [bad anchor](other.md#nothing) ![img](pic.png)\n", encoding="utf-8")
    assert broken_links(page) == ["missing.md: no such file", "other.md#nothing: no heading with that anchor",
                                  "pic.png: no such file"]
    assert github_slug("Compiled shapes and `--length-step`") == "compiled-shapes-and---length-step"
    assert github_slug("训练如何挑选模型、何时停止") == "训练如何挑选模型何时停止"
    assert anchors_of("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}
