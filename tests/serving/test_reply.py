"""`POST /v1/reply`: a conversation in, the model's next turn out, its context built as in training."""

import pytest
from fastapi.testclient import TestClient

from keras_seq2seq.data.dialogue import SEPARATOR
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.serving import Limits, create_app, load_models

LIMITS = Limits(max_body_bytes=2000, max_sentences=5, max_chars=40, max_beam_size=4)


@pytest.fixture(scope="module")
def served(dialogue_dir, model_dir):
    models = load_models([str(dialogue_dir), f"dates={model_dir}"])
    with TestClient(create_app(models, LIMITS, max_batch=4, max_delay=0.01)) as client:
        yield client, models


def test_the_reply_reads_the_last_turns_the_model_was_trained_with(served):
    client, models = served
    turns = ["March 3", "2021-03-03", "4 July", "1976"]
    response = client.post("/v1/reply", json={"turns": turns, "beam_size": 2, "length_penalty": 1.0})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "chat" and body["context"] == SEPARATOR.join(turns[-3:])
    options = SearchOptions(beam_size=2, length_penalty=1.0, no_repeat_ngram=3)
    assert body["reply"] == models["chat"].translator.reply([body["context"]], options=options)[0]


def test_models_say_whether_they_are_dialogue_models(served):
    described = {m["name"]: m["dialogue"] for m in served[0].get("/v1/models").json()["models"]}
    assert described == {"chat": {"context_turns": 3}, "dates": None}


def test_sampled_replies_repeat_with_their_seed(served):
    client, _ = served
    request = {"turns": ["1 May 2003"], "sample": True, "temperature": 0.8, "top_p": 0.9, "seed": 4}
    first, again = client.post("/v1/reply", json=request).json(), client.post("/v1/reply", json=request).json()
    assert first["reply"] == again["reply"] and first["context"] == "1 May 2003"


@pytest.mark.parametrize("body, status, message", [
    ({"turns": []}, 422, "turns: give the conversation so far"),
    ({"turns": ["hi", "  "]}, 422, "non-empty turns"),
    ({"turns": ["x"] * 6}, 422, "turns: 6 turns; send at most 5"),
    ({"turns": ["x" * 41]}, 422, "turns[0]: 41 characters; at most 40"),
    ({"turns": ["hi"], "beam_size": 9}, 422, "beam_size: must be between 1 and 4"),
    ({"turns": ["hi"], "sample": True, "beam_size": 2}, 422, "leave beam_size at 1"),
    ({"turns": ["hi"], "no_repeat_ngram": -1}, 422, "no_repeat_ngram"),
    ({"turns": ["hi"], "no_repeat_ngram": 10**9}, 422, "no_repeat_ngram: must be between 0 (off) and 4"),
    ({"turns": ["hi"], "model": "nope"}, 404, "no model named 'nope'"),
    ({"turns": "hi"}, 422, "turns"),
    ({"turns": ["hi"], "sample": True, "seed": -1}, 422, "seed"),
    ({"turns": ["hi"], "beam_size": 2, "length_penalty": 600}, 422, "length_penalty"),
])
def test_bad_replies_get_a_clear_json_error(served, body, status, message):
    response = served[0].post("/v1/reply", json=body)
    assert response.status_code == status and message in response.json()["error"], response.text


def test_a_turn_holding_a_lone_surrogate_is_a_json_error(served):
    # JSON allows "\ud800"; no reply could be encoded with it (httpx will not send it as json=).
    response = served[0].post("/v1/reply", content=b'{"turns": ["hi", "a\\ud800"]}',
                              headers={"content-type": "application/json"})
    assert response.status_code == 422 and "turns[1]: holds a lone surrogate" in response.json()["error"]
