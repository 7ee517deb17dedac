"""Dialogue pairs: contexts of the right turns, one separator token, readable by the TSV reader."""

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.data.corpus import read_corpus
from keras_seq2seq.data.dialogue import SEPARATOR, context_source, dialogue_pairs, read_conversations
from keras_seq2seq.errors import CorpusError
from keras_seq2seq.text.tokenizers import CharTokenizer, WordTokenizer

CHATS = "hi\nhello there\nhow are you?\n  fine\tthanks ¶ \n\n\n\nsecond one\nreply\n\nalone\n"


def test_conversations_are_split_on_blank_lines_and_cleaned(tmp_path):
    (tmp_path / "c.txt").write_text(CHATS, encoding="utf-8")
    assert read_conversations(tmp_path / "c.txt") == [
        ["hi", "hello there", "how are you?", "fine thanks"], ["second one", "reply"], ["alone"]]


def test_each_reply_gets_the_previous_turns():
    conversation = [["a", "b", "c", "d"]]
    assert dialogue_pairs(conversation, 1) == [("a", "b"), ("b", "c"), ("c", "d")]
    assert dialogue_pairs(conversation, 2) == [("a", "b"), (f"a{SEPARATOR}b", "c"), (f"b{SEPARATOR}c", "d")]
    assert context_source(["x", "y", "z"], 5) == f"x{SEPARATOR}y{SEPARATOR}z"
    with pytest.raises(CorpusError, match="at least 1"):
        context_source(["x"], 0)


@pytest.mark.parametrize("tokenizer", [WordTokenizer(), WordTokenizer(lowercase=True, normalize="NFKC"),
                                       CharTokenizer()])
def test_the_separator_stays_one_token(tokenizer):
    tokens = tokenizer.tokenize(context_source(["how are you?", "fine."], 2))
    assert tokens.count(SEPARATOR.strip()) == 1
    if isinstance(tokenizer, WordTokenizer):
        assert tokens == ["how", "are", "you", "?", "¶", "fine", "."]


def test_command_writes_pairs_the_tsv_reader_reads(tmp_path, capsys):
    (tmp_path / "c.txt").write_text(CHATS, encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    assert main(["prepare-dialogue", str(tmp_path / "c.txt"), "--out", str(out), "--context-turns", "2"]) == 0
    assert "4 (context, response) pairs from 3 conversations, 7 turns" in capsys.readouterr().out
    pairs = [(p.source, p.target) for p in read_corpus(out, format="tsv", source_column=0, target_column=1)]
    assert pairs == [("hi", "hello there"), (f"hi{SEPARATOR}hello there", "how are you?"),
                     (f"hello there{SEPARATOR}how are you?", "fine thanks"), ("second one", "reply")]


def test_no_pairs_is_an_error(tmp_path, capsys):
    (tmp_path / "c.txt").write_text("one\n\ntwo\n", encoding="utf-8")
    assert main(["prepare-dialogue", str(tmp_path / "c.txt"), "--out", str(tmp_path / "p.tsv")]) == 2
    assert "every conversation needs at least two turns" in capsys.readouterr().err
    assert not (tmp_path / "p.tsv").exists()
