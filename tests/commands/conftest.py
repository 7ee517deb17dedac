"""Tiny dialogue models shared by the command tests (trained once per session, in seconds).

conversations.txt (beside this file) is a handful of short made-up conversations, written for
these tests: enough to train a tiny model, not to make it talk well.
"""

from pathlib import Path

import pytest

from keras_seq2seq.cli import main

CONVERSATIONS = Path(__file__).with_name("conversations.txt")
TINY = ["--epochs", "2", "--units", "32", "--embedding-dim", "16", "--min-freq", "1", "--quiet",
        "--attention", "luong-dot", "--select-on", "loss"]


@pytest.fixture(scope="session")
def dialogue_models(tmp_path_factory):
    """`(pairs.tsv, forward model, reverse model)`: context (2 turns) -> reply, and reply -> the
    turn before it, as docs/dialogue.md trains them."""
    work = tmp_path_factory.mktemp("dialogue")
    pairs, last_turn = work / "pairs.tsv", work / "last-turn.tsv"
    assert main(["prepare-dialogue", str(CONVERSATIONS), "--out", str(pairs), "--context-turns", "2"]) == 0
    assert main(["prepare-dialogue", str(CONVERSATIONS), "--out", str(last_turn), "--context-turns", "1"]) == 0
    for data, out, columns in ((pairs, "forward", ["0", "1"]), (last_turn, "reverse", ["1", "0"])):
        assert main(["train", "--data", str(data), "--format", "tsv", "--source-column", columns[0],
                     "--target-column", columns[1], "--out", str(work / out), *TINY]) == 0
    return pairs, work / "forward", work / "reverse"
