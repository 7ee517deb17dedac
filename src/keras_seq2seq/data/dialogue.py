"""Dialogue as translation: the previous turns are the source, the next turn is the target.

A conversation file holds one utterance per line and a blank line between conversations:

    hi there
    hello ! how are you ?
    fine , thanks

    what time is it ?
    ...

Every utterance after the first of its conversation becomes one training pair: its source is the
last `context_turns` utterances before it, joined by `SEPARATOR`, its target the utterance itself.
`seq2seq chat` builds its source from the conversation so far in exactly the same way, so a model
sees at chat time what it saw in training.

The separator is the pilcrow "¶" with a space either side: the word tokeniser keeps it as one token
of its own (it is neither a word character nor common in chat text), the character tokeniser
sees a single character, and lowercasing and NFC/NFKC normalisation leave it unchanged.

DailyDialog (Li et al., 2017) comes in another form, one conversation per line with every turn
ended by ` __eou__ ` (end of utterance):

    Can you do push-ups ? __eou__ Of course I can . __eou__ Really ? __eou__

`read_conversations` reads both forms; `format="auto"` tells them apart by the end-of-utterance
marks in the first line that has text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from keras_seq2seq.files import atomic_write_text, read_text_file
from keras_seq2seq.errors import CorpusError

SEPARATOR = " ¶ "  # between turns of a context; one token for the word and char tokenisers
CONTEXT_TURNS = 2  # previous utterances in a source, by default
_SEPARATOR_MARK = SEPARATOR.strip()
END_OF_UTTERANCE = "__eou__"  # DailyDialog's turn end
FORMATS = ("auto", "lines", "dailydialog")  # conversation file formats; auto: told apart by __eou__
MIN_JOINED_SHARE = 0.1  # a corpus with at least this share of multi-turn sources is dialogue


def recorded_context_turns(info: dict) -> int | None:
    """The context turns a model was trained with, from its record (`info["data"]["dialogue"]`,
    written by `train` for prepare-dialogue pairs); None for a model that is not a dialogue model."""
    return (info.get("data", {}).get("dialogue") or {}).get("context_turns")


def clean_turn(text: str) -> str:
    """One utterance on one line: tabs, line breaks and the separator itself become spaces."""
    return " ".join(text.replace(_SEPARATOR_MARK, " ").split())


def context_source(turns: Sequence[str], context_turns: int = CONTEXT_TURNS) -> str:
    """The model's source for the next turn: the last `context_turns` turns, oldest first."""
    if context_turns < 1:
        raise CorpusError(f"context_turns must be at least 1, got {context_turns}")
    return SEPARATOR.join(clean_turn(turn) for turn in turns[-context_turns:])


def read_conversations(path: str | os.PathLike, format: str = "auto") -> list[list[str]]:
    """The file's conversations, each a list of turns.

    `format` is `"lines"` (one utterance per line, blank lines between conversations),
    `"dailydialog"` (one conversation per line, turns ended by `__eou__`) or `"auto"`.
    """
    if format not in FORMATS:
        raise CorpusError(f"unknown conversation format {format!r}; use one of {', '.join(FORMATS)}", path=path)
    text = read_text_file(Path(path), CorpusError, "conversation file")
    if format == "auto":
        format = detect_format(text)
    if format == "dailydialog":
        return _dailydialog_conversations(text, path)
    conversations: list[list[str]] = [[]]
    for line in text.split("\n"):
        turn = clean_turn(line)
        if turn:
            conversations[-1].append(turn)
        elif conversations[-1]:
            conversations.append([])
    return [conversation for conversation in conversations if conversation]


def detect_format(text: str) -> str:
    """`"dailydialog"` when the first line with text holds an end-of-utterance mark, else `"lines"`."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    return "dailydialog" if END_OF_UTTERANCE in first else "lines"


def _dailydialog_conversations(text: str, path) -> list[list[str]]:
    """One conversation per line; every turn, the last included, ends with `__eou__`."""
    conversations = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if not line.rstrip().endswith(END_OF_UTTERANCE):
            raise CorpusError(f"a DailyDialog line must end with {END_OF_UTTERANCE} (its last turn's end); "
                              f"this one ends {line.rstrip()[-30:]!r}", path=path, line=number)
        turns = [clean_turn(turn) for turn in line.split(END_OF_UTTERANCE)]
        conversations.append([turn for turn in turns if turn])
    return [conversation for conversation in conversations if conversation]


def dialogue_pairs(conversations: Iterable[Sequence[str]],
                   context_turns: int = CONTEXT_TURNS) -> list[tuple[str, str]]:
    """(context, response) for every turn that has at least one turn before it."""
    return [(context_source(conversation[:i], context_turns), clean_turn(conversation[i]))
            for conversation in conversations for i in range(1, len(conversation))]


def context_turns_of(sources: Sequence[str]) -> int | None:
    """The context length a corpus of dialogue pairs was prepared with (the most turns in a
    source), or None when too few of its sources join turns for it to be one: a model trained on
    it then knows, at chat and evaluation time, that it is a dialogue model and how many turns
    to give it. (Contexts of one turn hold no separator: such corpora read as None.)"""
    turns = [source.count(SEPARATOR) + 1 for source in sources]
    joined = sum(count > 1 for count in turns)
    return max(turns) if turns and joined >= MIN_JOINED_SHARE * len(turns) else None


def write_dialogue_pairs(paths: Sequence[str | os.PathLike], out: str | os.PathLike,
                         context_turns: int = CONTEXT_TURNS, format: str = "auto") -> dict:
    """Write `context<TAB>response` lines for the conversations in `paths` to `out` (atomically).

    Returns counts: `{"conversations": ..., "turns": ..., "pairs": ...}`.
    """
    conversations = [c for path in paths for c in read_conversations(path, format)]
    pairs = dialogue_pairs(conversations, context_turns)
    if not pairs:
        raise CorpusError("no (context, response) pairs: every conversation needs at least two turns",
                          path=", ".join(map(str, paths)))
    try:
        atomic_write_text(Path(out), "".join(f"{source}\t{target}\n" for source, target in pairs))
    except OSError as error:
        raise CorpusError(f"cannot write ({error.strerror})", path=out) from None
    return {"conversations": len(conversations), "turns": sum(map(len, conversations)), "pairs": len(pairs)}
