"""The Chinese docs mirror the English ones, and the README stays a front door.

README.zh-CN.md has the same headings as README.md (same levels, same number, same order; the
words translated) and shows the same command lines, byte for byte, in the same order; so does each
page under docs/zh/ with its English page under docs/. A page left untranslated must be named,
with a link, in docs/zh/README.md. README.md stays at most 300 lines: the manual lives in docs/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ZH = DOCS / "zh"
README_MAX_LINES = 300
FENCE = re.compile(r"^```[\w+-]*[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A command line starts with one of these programs (after any VAR=value assignments).
PROGRAMS = {"seq2seq", "make", "python", "python3", "pip", "curl", "echo", "printf", "source", "cat",
            "tensorboard", "shuf", "git", "cd", "export", "apt-get"}


def headings(text: str) -> list[int]:
    """The levels of a Markdown page's headings, in order (lines in code blocks are not headings)."""
    return [len(match.group(1)) for line in FENCE.sub("", text).splitlines()
            if (match := re.match(r"(#{1,6})\s+\S", line))]


def command_lines(text: str) -> list[str]:
    """Lines of the code blocks that run a program, continuations joined, in order. A command
    starts at the line's first column (an indented line is a diagram or output, not a command)."""
    found = []
    for body in FENCE.findall(text):
        for line in body.replace("\\\n", "\\ ").splitlines():
            words = line.split() if line[:1].strip() else []
            while words and re.match(r"[A-Z_][A-Z0-9_]*=", words[0]):
                words = words[1:]
            if words and (words[0] in PROGRAMS or words[0].endswith(("/python", "/seq2seq"))):
                found.append(line.rstrip())
    return found


def translated_pages() -> list[str]:
    return sorted(path.name for path in ZH.glob("*.md") if (DOCS / path.name).is_file())


def mirrors() -> list[tuple[str, str]]:
    return [("README.md", "README.zh-CN.md"), *((f"docs/{name}", f"docs/zh/{name}") for name in translated_pages())]


def read(page: str) -> str:
    return (ROOT / page).read_text(encoding="utf-8")


@pytest.mark.parametrize("english, chinese", mirrors())
def test_the_chinese_page_has_the_same_headings(english, chinese):
    assert headings(read(chinese)) == headings(read(english))


@pytest.mark.parametrize("english, chinese", mirrors())
def test_the_chinese_page_shows_the_same_command_lines(english, chinese):
    assert command_lines(read(chinese)) == command_lines(read(english))


def test_the_readme_is_a_front_door():
    lines = read("README.md").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"


def test_the_main_pages_are_translated():
    assert {"training.md", "decoding.md", "data.md", "serving.md"} <= set(translated_pages())


def test_the_chinese_index_names_every_untranslated_page():
    index = read("docs/zh/README.md")
    for page in sorted(DOCS.glob("*.md")):
        if not (ZH / page.name).is_file():
            assert f"](../{page.name})" in index, f"docs/zh/README.md should say {page.name} is English-only"


def test_the_checkers_can_fail():
    text = ("# T\n\nprose # not a heading\n\n## A\n```bash\n# a comment, not a heading\n"
            "seq2seq train --task dates \\\n    --out runs/x   # trailing words\n"
            "XLA_FLAGS=--x seq2seq tasks\n.venv/bin/python bench/x.py\n"
            "demo: task=dates (output, not a command)\n source ids ──► (a diagram)\n```\n### B\n")
    assert headings(text) == [1, 2, 3]
    assert command_lines(text) == ["seq2seq train --task dates \\     --out runs/x   # trailing words",
                                   "XLA_FLAGS=--x seq2seq tasks", ".venv/bin/python bench/x.py"]
    # A heading dropped, a level changed or a command changed shows.
    assert headings(text.replace("### B", "## B")) != headings(text)
    assert headings(text.replace("## A\n", "")) != headings(text)
    assert command_lines(text.replace("runs/x", "runs/y")) != command_lines(text)
