"""Dialogue pairs: contexts of the right turns, one separator token, readable by the TSV reader;
conversation files in both forms (blank-line separated, and DailyDialog's __eou__ lines)."""

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.data.corpus import read_corpus
from keras_seq2seq.data.dialogue import (SEPARATOR, context_source, context_turns_of, detect_format, dialogue_pairs,
                                         read_conversations)
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


# DailyDialog's form, as in its official files: one conversation per line, every turn ended by
# __eou__ (made-up lines, not the corpus).
DAILYDIALOG = ("Can we talk ? __eou__ Sure , what about ? __eou__ The party . __eou__ Oh , that . __eou__\n"
               "Hello ! __eou__ Hi there . __eou__\n"
               "\n"
               "Anyone ? __eou__\n")


def test_dailydialog_lines_are_conversations_and_are_told_apart(tmp_path):
    (tmp_path / "dialogues.txt").write_text(DAILYDIALOG, encoding="utf-8")
    expected = [["Can we talk ?", "Sure , what about ?", "The party .", "Oh , that ."], ["Hello !", "Hi there ."],
                ["Anyone ?"]]
    assert read_conversations(tmp_path / "dialogues.txt") == expected
    assert read_conversations(tmp_path / "dialogues.txt", format="dailydialog") == expected
    assert detect_format(DAILYDIALOG) == "dailydialog" and detect_format("\n\n" + CHATS) == "lines"
    # Read as lines, each DailyDialog line would be one turn of one long conversation.
    assert len(read_conversations(tmp_path / "dialogues.txt", format="lines")[0]) == 2


def test_dailydialog_pairs_one_per_reply_after_the_first_turn(tmp_path):
    (tmp_path / "test.txt").write_text(DAILYDIALOG, encoding="utf-8")
    pairs = dialogue_pairs(read_conversations(tmp_path / "test.txt"), context_turns=2)
    assert pairs == [("Can we talk ?", "Sure , what about ?"),
                     (f"Can we talk ?{SEPARATOR}Sure , what about ?", "The party ."),
                     (f"Sure , what about ?{SEPARATOR}The party .", "Oh , that ."),
                     ("Hello !", "Hi there .")]
    assert context_turns_of([source for source, _ in pairs]) == 2
    assert context_turns_of(["a", "b", "c"]) is None  # no joined turns: not known to be dialogue
    assert context_turns_of(["a", "b", f"c{SEPARATOR}d"] + ["e"] * 7) == 2  # one in ten is enough


def test_a_dailydialog_line_without_its_last_end_mark_names_the_line(tmp_path):
    (tmp_path / "bad.txt").write_text("Hi . __eou__ Hello . __eou__\nHi . __eou__ cut off\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad.txt:2: .*must end with __eou__"):
        read_conversations(tmp_path / "bad.txt")


def test_command_reads_dailydialog_with_context_turns(tmp_path, capsys):
    (tmp_path / "train.txt").write_text(DAILYDIALOG, encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    assert main(["prepare-dialogue", str(tmp_path / "train.txt"), "--out", str(out), "--context-turns", "3"]) == 0
    assert "4 (context, response) pairs from 3 conversations, 7 turns; context = last 3" in capsys.readouterr().out
    pairs = [(p.source, p.target) for p in read_corpus(out, format="tsv", source_column=0, target_column=1)]
    assert pairs[2] == (f"Can we talk ?{SEPARATOR}Sure , what about ?{SEPARATOR}The party .", "Oh , that .")
    assert main(["prepare-dialogue", str(tmp_path / "train.txt"), "--out", str(out), "--format", "lines"]) == 0
    assert "1 (context, response) pairs" in capsys.readouterr().out
