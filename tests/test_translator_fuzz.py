"""Property test: `translate` answers any list of strings, one string per input, in order.

The model is tiny and trained for one step (it need not translate well, only run). Compiling a
search program for each padded length is what costs time here, so inputs are padded to multiples
of 2,048 tokens: everything short shares one program, and 10,000-token inputs add at most four.
"""

import pytest
from fuzzing import examples, line_text, nasty_text
from hypothesis import example, given
from hypothesis import strategies as st

from keras_seq2seq import Translator, cli, task_splits

LONG = "x" * 10_000


@pytest.fixture(scope="session")
def tiny_translator():
    pairs = task_splits("dates", train=32, dev=0, test=0)["train"]
    translator = Translator.train(pairs, preset="dates", epochs=1, verbose=0, units=16, embedding_dim=8,
                                  batch_size=32, text__source_tokenizer={"kind": "word"})
    translator.settings.train.length_step = 2048  # few compiled shapes (see above)
    return translator


@examples(25)
@given(texts=st.lists(nasty_text(), max_size=5))
@example(texts=[])
@example(texts=["", " ", "\t\r\n", "\x00", "\ufeff", "\ud800", "<eos>", "😀", "مرحبا 日本 abc", "e\u0301"])
@example(texts=[LONG, "", "March 3, 2021"])
@example(texts=["a " * 5_000])
def test_translate_gives_one_string_per_input(tiny_translator, texts):
    outputs = tiny_translator.translate(texts)
    assert isinstance(outputs, list) and len(outputs) == len(texts)
    assert all(isinstance(output, str) for output in outputs)


@examples(5)
@given(texts=st.lists(line_text(), min_size=1, max_size=40))
def test_beam_search_gives_one_string_per_input(tiny_translator, texts):
    outputs = tiny_translator.translate(texts, beam_size=2)
    assert len(outputs) == len(texts) and all(isinstance(output, str) for output in outputs)


ONE_LINE = line_text().map(lambda text: text.replace("\n", " ").replace("\r", " "))  # short: no new compiles


@examples(15)
@given(lines=st.lists(ONE_LINE, max_size=6), end=st.sampled_from(["\n", "\r\n", "\r"]))
@example(lines=["form\x0cfeed", "line\u2028separator", "next\x85line", "vertical\x0btab", "\x1c\x1d\x1e", ""],
         end="\n")
def test_cli_translate_prints_one_line_per_input_line(tiny_translator, monkeypatch, tmp_path, capsys, lines, end):
    monkeypatch.setattr(Translator, "load", classmethod(lambda cls, directory: tiny_translator))
    path = tmp_path / "input.txt"
    path.write_bytes("".join(line + end for line in lines).encode("utf-8"))
    assert cli.main(["translate", "--model", "unused", "--input", str(path)]) == 0
    assert capsys.readouterr().out.count("\n") == len(lines)
