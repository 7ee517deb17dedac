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


def test_the_page_is_served_and_the_api_docs_only_when_asked_for(client, models):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="source"' in page.text and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    # Swagger UI and ReDoc load from a CDN: off unless the server is started with --docs.
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404
    assert client.get("/v1/health").json()["docs"] is None
    with TestClient(create_app(models, LIMITS, max_batch=4, docs=True)) as documented:
        assert documented.get("/docs").status_code == 200
        assert "/v1/translate" in documented.get("/openapi.json").json()["paths"]
        assert documented.get("/v1/health").json()["docs"] == "/docs"


def test_models_are_listed_by_name_without_the_servers_paths(client, model_dir):
    text = client.get("/v1/models").text
    assert str(model_dir) not in text and str(model_dir.parent) not in text
    assert all("directory" not in model for model in json.loads(text)["models"])


@pytest.mark.parametrize("options", [
    {"sample": True, "seed": 10**30},
    {"sample": True, "temperature": 1e-30},
    {"sample": True, "temperature": 1e30, "top_k": 10**30, "top_p": 1e-30},
    {"sample": True, "temperature": 5e-324, "top_k": 1, "top_p": 1},
    {"beam_size": 4, "n_best": 4, "length_penalty": 10},
    {"beam_size": 2, "length_penalty": 9.99},
])
def test_every_accepted_value_works_and_scores_are_finite(client, options):
    response = post(client, {"text": SENTENCES[:2], **options})
    assert response.status_code == 200, response.text
    body = json.loads(response.text, parse_constant=lambda name: pytest.fail(f"{name} in {response.text}"))
    scores = body["scores"] + [h["score"] for hypotheses in body.get("n_best", []) for h in hypotheses]
    assert scores and all(-1e6 < score < 0 for score in scores), scores


@pytest.mark.parametrize("raw, field", [
    ('{"text": "x", "sample": true, "seed": -1}', "seed"),
    ('{"text": "x", "beam_size": 2, "length_penalty": 600}', "length_penalty"),
    ('{"text": "x", "beam_size": 2, "length_penalty": 1e400}', "length_penalty"),
    ('{"text": "x", "sample": true, "temperature": 1e400}', "temperature"),
    ('{"text": "x", "sample": true, "temperature": NaN}', "temperature"),
    ('{"text": "x", "sample": true, "top_p": NaN}', "top_p"),
    ('{"text": "a\\ud800b", "attention": true}', "text: holds a lone surrogate"),
    ('{"text": ["ok", "\\udfff"]}', "text[1]: holds a lone surrogate"),
])
def test_values_out_of_range_are_json_422s_naming_the_field(client, raw, field):
    response = client.post("/v1/translate", content=raw.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith(field)


def test_new_option_values_compile_no_new_program(client, models, model_dir):
    generation = models[model_dir.name].translator._generation
    warm = [{"beam_size": 3, "length_penalty": 0.5}, {"sample": True, "temperature": 0.5, "top_p": 0.9}]
    for options in warm:
        assert post(client, {"text": SENTENCES[0], **options}).status_code == 200
    programs, traced = len(generation._generators), generation.traced_programs()
    for i in range(1, 6):
        for options in ({"beam_size": 3, "length_penalty": i / 3, "n_best": 1 + i % 3},
                        {"sample": True, "temperature": 0.2 * i, "top_p": 0.5 + i / 20, "seed": i}):
            assert post(client, {"text": SENTENCES[0], **options}).status_code == 200
    assert (len(generation._generators), generation.traced_programs()) == (programs, traced)


@pytest.fixture(scope="module")
def keyed(models):
    with TestClient(create_app(models, LIMITS, max_batch=4, api_key="correct horse")) as keyed:
        yield keyed


def test_with_an_api_key_the_v1_routes_need_it(keyed):
    for method, path in (("post", "/v1/translate"), ("get", "/v1/models"), ("get", "/v1/nothing")):
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "correct horse"},
                        {"authorization": "Basic correct horse"}, {"authorization": "Bearer correct horse!"}):
            response = getattr(keyed, method)(path, headers=headers, **({"json": {"text": "x"}} if method == "post" else {}))
            assert response.status_code == 401, (path, headers)
            assert "API key" in response.json()["error"]
            assert response.headers["www-authenticate"].startswith("Bearer")
    good = {"authorization": "Bearer correct horse"}
    assert keyed.post("/v1/translate", json={"text": SENTENCES[0]}, headers=good).status_code == 200
    assert keyed.get("/v1/models", headers={"authorization": "bearer  correct horse "}).status_code == 200


def test_with_an_api_key_the_health_check_and_the_page_stay_public(keyed):
    health = keyed.get("/v1/health")
    assert health.status_code == 200 and health.json()["api_key"] is True
    assert keyed.get("/").status_code == 200 and keyed.get("/static/app.js").status_code == 200


def test_an_empty_api_key_in_the_environment_refuses_to_start(model_dir, monkeypatch, capsys):
    monkeypatch.setenv("SEQ2SEQ_API_KEY", "  ")
    assert main(["serve", "--model", str(model_dir)]) == 2
    assert "SEQ2SEQ_API_KEY is set but empty" in capsys.readouterr().err


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
