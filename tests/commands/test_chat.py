"""`seq2seq chat`: the context it feeds, its commands, and the whole path on a tiny dialogue model
(conftest.py trains it on conversations.txt)."""

import io
from pathlib import Path

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.data.dialogue import SEPARATOR
from keras_seq2seq.translator import Translator

CONVERSATIONS = Path(__file__).with_name("conversations.txt")


class RecordingTranslator:
    """Stands in for a loaded model: remembers each source and the options, replies "rN"."""

    def __init__(self, info=None):
        self.sources, self.options = [], []
        self.info = info or {}

    def reply(self, texts, *, options, reranker=None, draws=1):
        self.sources += texts
        self.options.append(options)
        self.draws = draws
        return [f"r{len(self.sources) - 1}"]


def _chat(monkeypatch, capsys, stdin_text, *options, model="unused"):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin_text))
    code = main(["chat", "--model", str(model), *options])
    return code, capsys.readouterr()


def test_context_turns_reset_and_quit(monkeypatch, capsys):
    fake = RecordingTranslator()
    monkeypatch.setattr(Translator, "load", classmethod(lambda cls, directory: fake))
    code, printed = _chat(monkeypatch, capsys, "hi\nhow are you?\n\n/reset\nagain\tnow\n/quit\nnever read\n",
                          "--context-turns", "2")
    assert code == 0
    assert printed.out == "r0\nr1\nr2\n"  # no prompt: stdin is not a terminal
    assert fake.sources == ["hi", f"r0{SEPARATOR}how are you?", "again now"]
    assert "forgotten" in printed.err


def test_the_context_length_defaults_to_the_models_own(monkeypatch, capsys):
    fake = RecordingTranslator(info={"data": {"dialogue": {"context_turns": 3}}})
    monkeypatch.setattr(Translator, "load", classmethod(lambda cls, directory: fake))
    _chat(monkeypatch, capsys, "a\nb\nc\n")
    assert fake.sources[-1] == f"b{SEPARATOR}r1{SEPARATOR}c"  # three turns, as the model was trained
    code, printed = _chat(monkeypatch, capsys, "a\n", "--mmi-model", "reverse", "--beam-size", "1")
    assert code == 2 and "--mmi-model reranks candidates: give --beam-size 2 or more" in printed.err


def test_sampling_options_reach_the_search(monkeypatch, capsys):
    fake = RecordingTranslator()
    monkeypatch.setattr(Translator, "load", classmethod(lambda cls, directory: fake))
    _chat(monkeypatch, capsys, "a\nb\n", "--sample", "--temperature", "0.7", "--top-k", "5",
          "--seed", "9", "--no-repeat-ngram", "2", "--draws", "3")
    first, second = fake.options
    assert fake.draws == 3
    assert first.sampling.as_dict() == {"temperature": 0.7, "top_k": 5, "top_p": 0.9}
    assert first.no_repeat_ngram == 2 and (first.seed, second.seed) == (9, 10)
    code, printed = _chat(monkeypatch, capsys, "a\n", "--sample", "--beam-size", "3")
    assert code == 2 and "leave --beam-size at 1" in printed.err


@pytest.mark.slow
def test_prepare_train_and_chat_end_to_end(dialogue_models, monkeypatch, capsys):
    _, model, _ = dialogue_models  # prepare-dialogue, then train (conftest.py)
    lines = ["hi", "how are you ?", "what time is it ?", "good night"]
    code, printed = _chat(monkeypatch, capsys, "\n".join(lines) + "\n", "--sample", "--seed", "1",
                          "--no-repeat-ngram", "2", model=model)
    assert code == 0
    replies = printed.out.split("\n")
    assert len(replies) == len(lines) + 1 and replies[-1] == ""  # one line per input
    assert any(replies[:-1])  # the model says something


@pytest.mark.slow
def test_chat_reranks_with_a_reverse_model(dialogue_models, monkeypatch, capsys):
    _, forward, reverse = dialogue_models
    lines = ["hi", "how are you ?", "good night"]
    code, printed = _chat(monkeypatch, capsys, "\n".join(lines) + "\n", "--beam-size", "4", "--mmi-model",
                          str(reverse), "--mmi-weight", "0.5", model=forward)
    assert code == 0, printed.err
    assert len(printed.out.split("\n")) == len(lines) + 1


@pytest.mark.slow
def test_a_transformer_trains_on_dialogue_and_chats(tmp_path, monkeypatch, capsys):
    pairs, model = tmp_path / "pairs.tsv", tmp_path / "chat-transformer"
    assert main(["prepare-dialogue", str(CONVERSATIONS), "--out", str(pairs), "--context-turns", "2"]) == 0
    assert main(["train", "--data", str(pairs), "--format", "tsv", "--source-column", "0",
                 "--target-column", "1", "--out", str(model), "--epochs", "2", "--architecture", "transformer",
                 "--units", "16", "--heads", "2", "--layers", "1", "--min-freq", "1", "--quiet"]) == 0
    capsys.readouterr()
    lines = ["hi", "how are you ?", "good night"]
    code, printed = _chat(monkeypatch, capsys, "\n".join(lines) + "\n", "--sample", "--seed", "1",
                          "--no-repeat-ngram", "2", model=model)
    assert code == 0
    replies = printed.out.split("\n")
    assert len(replies) == len(lines) + 1 and replies[-1] == ""
    assert any(replies[:-1])
    # evaluate reads the model's dialogue record: perplexity comes from the Transformer's teacher forcing
    assert main(["evaluate", "--model", str(model), "--data", str(pairs), "--samples", "0"]) == 0
    report = capsys.readouterr().out
    assert "perplexity" in report and "Distinct-2" in report and "exact match" not in report
    # MMI reranking on a Transformer's beam (its n-best, then its teacher-forced scores; the model
    # stands in for the reverse one here: the mechanics, not the quality, are under test)
    assert main(["evaluate", "--model", str(model), "--data", str(pairs), "--samples", "0", "--beam-size", "3",
                 "--mmi-model", str(model)]) == 0
    assert "Distinct-2" in capsys.readouterr().out
