"""One small export shared by the runtime tests: a subword model with attention and a shortlist."""

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")


@pytest.fixture(scope="session")
def dates():
    from keras_seq2seq.data.tasks import task_splits

    return task_splits("dates", train=400, dev=10, test=40, seed=0)


@pytest.fixture(scope="session")
def model_and_export(dates, tmp_path_factory):
    """`(translator, model directory, export directory)`; SentencePiece on both sides."""
    from keras_seq2seq.export import export_model
    from keras_seq2seq.translator import Translator

    root = tmp_path_factory.mktemp("runtime")
    translator = Translator.create(dates["train"], preset_name="dates", units=32, embedding_dim=16,
                                   param_init=1.0, max_output_len=14, attention="luong-general",
                                   source_tokenizer={"kind": "sentencepiece"},
                                   target_tokenizer={"kind": "sentencepiece"}, vocab_size=100)
    translator.save(root / "model")
    export_model(root / "model", root / "export")
    return translator, root / "model", root / "export"
