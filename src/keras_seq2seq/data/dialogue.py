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


def clean_turn(text: str) -> str:
    """One utterance on one line: tabs, line breaks and the separator itself become spaces."""
    return " ".join(text.replace(_SEPARATOR_MARK, " ").split())


def context_source(turns: Sequence[str], context_turns: int = CONTEXT_TURNS) -> str:
    """The model's source for the next turn: the last `context_turns` turns, oldest first."""
    if context_turns < 1:
        raise CorpusError(f"context_turns must be at least 1, got {context_turns}")
    return SEPARATOR.join(clean_turn(turn) for turn in turns[-context_turns:])


def read_conversations(path: str | os.PathLike) -> list[list[str]]:
    """The file's conversations: runs of non-blank lines separated by blank lines."""
    text = read_text_file(Path(path), CorpusError, "conversation file")
    conversations: list[list[str]] = [[]]
    for line in text.split("\n"):
        turn = clean_turn(line)
        if turn:
            conversations[-1].append(turn)
        elif conversations[-1]:
            conversations.append([])
    return [conversation for conversation in conversations if conversation]


def dialogue_pairs(conversations: Iterable[Sequence[str]],
                   context_turns: int = CONTEXT_TURNS) -> list[tuple[str, str]]:
    """(context, response) for every turn that has at least one turn before it."""
    return [(context_source(conversation[:i], context_turns), clean_turn(conversation[i]))
            for conversation in conversations for i in range(1, len(conversation))]


def write_dialogue_pairs(paths: Sequence[str | os.PathLike], out: str | os.PathLike,
                         context_turns: int = CONTEXT_TURNS) -> dict:
    """Write `context<TAB>response` lines for the conversations in `paths` to `out` (atomically).

    Returns counts: `{"conversations": ..., "turns": ..., "pairs": ...}`.
    """
    conversations = [c for path in paths for c in read_conversations(path)]
    pairs = dialogue_pairs(conversations, context_turns)
    if not pairs:
        raise CorpusError("no (context, response) pairs: every conversation needs at least two turns",
                          path=", ".join(map(str, paths)))
    try:
        atomic_write_text(Path(out), "".join(f"{source}\t{target}\n" for source, target in pairs))
    except OSError as error:
        raise CorpusError(f"cannot write ({error.strerror})", path=out) from None
    return {"conversations": len(conversations), "turns": sum(map(len, conversations)), "pairs": len(pairs)}
