"""The HTTP API through FastAPI's TestClient, on a tiny trained model: answers, errors, batching."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from keras_seq2seq.cli import main
from keras_seq2seq.data.tasks import task_splits
from keras_seq2seq.translator import Translator
from keras_seq2seq.serving import Limits, create_app, load_models
from keras_seq2seq.serving.registry import parse_model_specs
from keras_seq2seq.errors import ConfigError

# Sentences of 9-16 characters; with the tiny model's length_step they all pad to one length.
SENTENCES = ["March 3, 2021", "4 July 1976", "1999/05/04", "12 May 2003", "Jan 9, 1985",
             "2010-10-10", "June 1, 1990", "8/7/2001"]
LIMITS = Limits(max_body_bytes=2000, max_sentences=5, max_chars=40, max_beam_size=4)


@pytest.fixture(scope="module")
def plain_dir(tmp_path_factory):
    """An untrained model without attention (requests to it are refused before decoding)."""
    out = tmp_path_factory.mktemp("plain-model")
    Translator.create(task_splits("dates", train=50, dev=1, test=1)["train"], preset_name="dates",
                      units=8, embedding_dim=8).save(out)
    return out


@pytest.fixture(scope="module")
def models(model_dir, plain_dir):
    return load_models([str(model_dir), f"second={model_dir}", f"plain={plain_dir}"])


@pytest.fixture(scope="module")
def client(models):
    # max_batch=4: decode batches pad to 1 or 4 rows, so the tests compile few programs.
    app = create_app(models, LIMITS, max_batch=4, max_delay=0.05)
    with TestClient(app) as client:  # runs the lifespan: starts (and at the end drains) the batcher
        yield client


def post(client, body):
    return client.post("/v1/translate", json=body)


def test_one_sentence_is_translated_by_the_default_model(client, models, model_dir):
    response = post(client, {"text": SENTENCES[0]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == model_dir.name
    assert body["translations"] == models[model_dir.name].translator.translate([SENTENCES[0]])
    assert len(body["scores"]) == 1 and body["scores"][0] <= 0
    assert "n_best" not in body


def test_a_list_gets_one_translation_per_sentence_in_order(client, models):
    response = post(client, {"text": SENTENCES[:3], "model": "second"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "second"
    assert body["translations"] == models["second"].translator.translate(SENTENCES[:3])


def test_n_best_lists_come_best_first_with_their_scores(client):
    response = post(client, {"text": [SENTENCES[0]], "beam_size": 3, "n_best": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    (hypotheses,) = body["n_best"]
    assert len(hypotheses) == 3
    scores = [h["score"] for h in hypotheses]
    assert scores == sorted(scores, reverse=True)
    assert body["translations"] == [hypotheses[0]["text"]] and body["scores"] == [scores[0]]


def test_sampling_repeats_with_the_same_seed(client):
    request = {"text": SENTENCES[1], "sample": True, "temperature": 1.5, "seed": 7}
    first, again = post(client, request), post(client, request)
    assert first.status_code == 200, first.text
    assert first.json() == again.json()


def test_attention_maps_come_with_the_best_output(client, models):
    response = post(client, {"text": SENTENCES[:2], "attention": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["translations"] == next(iter(models.values())).translator.translate(SENTENCES[:2])
    for sentence, text, attention in zip(SENTENCES, body["translations"], body["attention"]):
        assert "".join(attention["source_tokens"]) == sentence  # the char tokeniser keeps spaces
        assert "".join(t for t in attention["target_tokens"] if t != "<eos>") == text
        weights = attention["weights"]
        assert len(weights) == len(attention["target_tokens"])
        assert all(len(row) == len(sentence) and abs(sum(row) - 1) < 0.01 for row in weights)


def test_concurrent_requests_are_decoded_together(client, models):
    before = client.get("/v1/health").json()["batcher"]
    texts = [[s] for s in SENTENCES]
    with ThreadPoolExecutor(len(texts)) as pool:
        responses = list(pool.map(lambda t: post(client, {"text": t}), texts))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    # Each request got its own sentence's translation back.
    translator = next(iter(models.values())).translator
    assert [r.json()["translations"][0] for r in responses] == translator.translate(SENTENCES)
    after = client.get("/v1/health").json()["batcher"]
    requests = after["requests"] - before["requests"]
    decode_calls = after["decode_calls"] - before["decode_calls"]
    assert requests == len(texts)
    assert decode_calls < requests
    assert after["largest_batch"] > 1


def test_models_are_described(client, model_dir):
    body = client.get("/v1/models").json()
    assert body["default"] == model_dir.name
    assert [m["name"] for m in body["models"]] == [model_dir.name, "second", "plain"]
    model = body["models"][0]
    assert model["task"] == "dates"
    assert model["source_tokenizer"]["kind"] == "char"
    assert model["source_vocab_size"] > 10 and model["target_vocab_size"] > 10
    assert model["architecture"]["units"] == 32 and model["has_attention"]
    assert not body["models"][2]["has_attention"]
    # The checkpoint's dev scores, recorded at training time (null without a dev set).
    assert isinstance(model["dev_bleu"], float) and isinstance(model["dev_chrf"], float)
    assert body["limits"]["max_sentences"] == LIMITS.max_sentences


def test_health(client, model_dir):
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["models"] == [model_dir.name, "second", "plain"]
    assert body["batching"] is True and body["max_batch"] == 4


def test_the_page_and_the_api_docs_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="source"' in page.text and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/docs").status_code == 200
    assert "/v1/translate" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("body, status, message", [
    ({"text": "x", "model": "nope"}, 404, "no model named 'nope'"),
    ({"text": ["a"] * 6}, 422, "at most 5 per request"),
    ({"text": ["ok", "y" * 41]}, 422, "text[1]: 41 characters; at most 40"),
    ({"text": []}, 422, "non-empty list"),
    ({"text": "x", "beam_size": 5}, 422, "beam_size: must be between 1 and 4"),
    ({"text": "x", "beam_size": 0}, 422, "beam_size"),
    ({"text": "x", "beam_size": 2, "n_best": 3}, 422, "n_best: must be between 1 and beam_size (2)"),
    ({"text": "x", "sample": True, "beam_size": 2}, 422, "leave beam_size at 1"),
    ({"text": "x", "sample": True, "temperature": 0}, 422, "temperature: must be > 0"),
    ({"text": "x", "sample": True, "top_p": 1.5}, 422, "top_p"),
    ({"text": "x", "sample": True, "top_k": -1}, 422, "top_k"),
    ({"text": "x", "length_penalty": -1}, 422, "length_penalty"),
    ({"text": "x", "beam_size": "5"}, 422, "beam_size"),
    ({"text": 5}, 422, "text"),
    ({"text": "x", "colour": "red"}, 422, "colour"),
    ({"text": "x", "attention": True, "beam_size": 2, "n_best": 2}, 422, "leave n_best at 1"),
    ({"text": "x", "attention": True, "model": "plain"}, 422, "has no attention"),
    ({}, 422, "text"),
])
def test_bad_requests_get_a_clear_json_error(client, body, status, message):
    response = post(client, body)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


def test_a_body_over_the_limit_is_refused_with_413(client):
    response = post(client, {"text": "x" * 3000})
    assert response.status_code == 413
    assert response.json() == {"error": "the request body is larger than 2000 bytes"}


def test_malformed_json_is_a_400(client):
    response = client.post("/v1/translate", content=b'{"text": "x",', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


def test_a_body_that_is_not_json_is_refused(client):
    response = client.post("/v1/translate", content=b"text=x", headers={"content-type": "text/plain"})
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_unknown_routes_and_methods_get_json_errors(client):
    assert client.get("/v1/nothing").json() == {"error": "Not Found"}
    assert client.get("/v1/translate").status_code == 405


def test_model_specs_name_directories_and_refuse_duplicates():
    assert parse_model_specs(["runs/dates/", "spa=x/y"]) == [("dates", __import__("pathlib").Path("runs/dates/")),
                                                             ("spa", __import__("pathlib").Path("x/y"))]
    with pytest.raises(ConfigError, match="used twice"):
        parse_model_specs(["a/m", "b/m"])


def test_serve_with_a_missing_model_directory_is_a_cli_error(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "missing")]) == 2
    assert "seq2seq: error:" in capsys.readouterr().err


def test_a_streamed_body_over_the_limit_is_refused_with_413(client):
    def chunks():  # no Content-Length: the server must count as it reads
        yield b'{"text": "'
        for _ in range(30):
            yield b"x" * 100
        yield b'"}'

    response = client.post("/v1/translate", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"error": "the request body is larger than 2000 bytes"}
