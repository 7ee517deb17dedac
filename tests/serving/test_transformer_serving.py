"""A Transformer served over HTTP like any model: translations, n-best lists, attention maps and
its description in `GET /v1/models`."""

import pytest
from fastapi.testclient import TestClient

from keras_seq2seq.data.tasks import task_splits
from keras_seq2seq.serving import Limits, create_app, load_models
from keras_seq2seq.translator import Translator

SENTENCES = ["March 3, 2021", "4 July 1976", "1999/05/04"]
# One epoch of a 16-unit Transformer; length_step=32 pads every dates sentence to one length.
TINY = dict(architecture="transformer", epochs=1, units=16, num_layers=1, heads=2, batch_size=64,
            learning_rate=3e-3, length_step=32)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    splits = task_splits("dates", train=1000, dev=10, test=10, seed=0)
    out = tmp_path_factory.mktemp("served-transformer")
    Translator.train(splits["train"], dev=splits["dev"], preset="dates", out_dir=out, verbose=0,
                     info={"data": {"task": "dates", "train_pairs": 1000}}, **TINY)
    models = load_models([f"transformer={out}"])
    with TestClient(create_app(models, Limits(max_beam_size=4), max_batch=4, max_delay=0.05)) as client:
        yield client, models["transformer"].translator


def test_translations_and_n_best_lists(served):
    client, translator = served
    response = client.post("/v1/translate", json={"text": SENTENCES, "beam_size": 3, "n_best": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    best = translator.translate_n_best(SENTENCES, 2, beam_size=3)
    assert body["translations"] == [hypotheses[0][0] for hypotheses in best]
    assert [[h["text"] for h in hypotheses] for hypotheses in body["n_best"]] == [
        [text for text, _ in hypotheses] for hypotheses in best]


def test_attention_maps_are_cross_attention_rows(served):
    client, translator = served
    response = client.post("/v1/translate", json={"text": SENTENCES[:2], "attention": True})
    assert response.status_code == 200, response.text
    for sentence, attention in zip(SENTENCES, response.json()["attention"]):
        assert "".join(attention["source_tokens"]) == sentence
        assert len(attention["weights"]) == len(attention["target_tokens"])
        assert all(len(row) == len(sentence) and abs(sum(row) - 1) < 0.01 for row in attention["weights"])


def test_the_model_is_described_as_a_transformer(served):
    client, _ = served
    model = client.get("/v1/models").json()["models"][0]
    assert model["architecture"] == {"kind": "transformer", "units": 16, "layers": 1, "decoder_layers": 1,
                                     "heads": 2, "ffn_dim": 64}
    assert model["has_attention"]
