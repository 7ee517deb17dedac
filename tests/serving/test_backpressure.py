"""Backpressure through a real uvicorn server: a full queue answers 503 with Retry-After, a request
that waits too long is dropped, and so is one whose client hangs up; none of them is decoded."""

import socket
import threading
import time

import httpx
import pytest

uvicorn = pytest.importorskip("uvicorn")

from keras_seq2seq.serving import Limits, create_app, load_models  # noqa: E402

DECODE_TIMEOUT = 3.0  # seconds a request may wait in the queue (room for a loaded machine between two posts)


class Gate:
    """Wraps the batcher's `run_batch`: while closed, a decode waits (the worker is busy)."""

    def __init__(self, run_batch):
        self.run_batch = run_batch
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()
        self.calls: list[list[str]] = []

    def __call__(self, key, items):
        self.entered.set()
        assert self.open.wait(60), "the test never opened the gate"
        self.calls.append(list(items))
        return self.run_batch(key, items)


@pytest.fixture(scope="module")
def server(model_dir):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(load_models([f"dates={model_dir}"]), Limits(decode_timeout=DECODE_TIMEOUT), max_batch=4,
                     max_queued_work=8)
    gate = app.state.batcher.run_batch = Gate(app.state.batcher.run_batch)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    assert httpx.post(f"{url}/v1/translate", json={"text": "May 4, 1999"}, timeout=120).status_code == 200
    yield url, app.state.batcher, gate
    server.should_exit = True
    thread.join(30)


def post(url, body, results=None, timeout=120):
    response = httpx.post(f"{url}/v1/translate", json=body, timeout=timeout)
    if results is not None:
        results.append(response)
    return response


def in_background(*args) -> tuple[threading.Thread, list]:
    results: list = []
    thread = threading.Thread(target=post, args=(*args, results))
    thread.start()
    return thread, results


def hold_the_worker(url, gate):
    """Close the gate and start a decode that waits at it; returns its thread and results."""
    gate.open.clear()
    gate.entered.clear()
    held = in_background(url, {"text": "1 June 2001"})
    assert gate.entered.wait(30)
    return held


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_full_queue_answers_503_with_retry_after(server):
    url, batcher, gate = server
    held = hold_the_worker(url, gate)
    # 4 sentences with 2 beams: 8 units of work, the whole queue (taken: the queue was empty).
    queued = in_background(url, {"text": ["2 May 2002"] * 4, "beam_size": 2})
    wait_for(lambda: batcher.stats.queued_work == 8)
    refused = post(url, {"text": "3 March 2003"})
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert "queue is full" in refused.json()["error"]
    gate.open.set()
    for thread, results in (held, queued):
        thread.join(120)
        assert results[0].status_code == 200, results[0].text
    assert ["3 March 2003"] not in gate.calls


def test_a_request_that_waits_past_the_decode_timeout_is_dropped(server):
    url, batcher, gate = server
    dropped = batcher.stats.dropped
    held = hold_the_worker(url, gate)
    begun = time.monotonic()
    late = post(url, {"text": "4 April 2004"})
    assert late.status_code == 503 and "retry-after" in late.headers
    assert f"waited {DECODE_TIMEOUT:g} s" in late.json()["error"]
    assert DECODE_TIMEOUT * 0.9 < time.monotonic() - begun < DECODE_TIMEOUT + 5
    assert batcher.stats.dropped == dropped + 1
    gate.open.set()
    held[0].join(120)
    assert held[1][0].status_code == 200
    assert ["4 April 2004"] not in gate.calls


def test_a_request_whose_client_hung_up_is_dropped_undecoded(server):
    url, batcher, gate = server
    dropped = batcher.stats.dropped
    held = hold_the_worker(url, gate)
    body = b'{"text": "5 May 2005"}'
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(b"POST /v1/translate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                       b"content-length: %d\r\n\r\n%s" % (len(body), body))
        wait_for(lambda: batcher.stats.queued_work == 1)
    # The socket is closed: the server notices and drops the queued request at once.
    wait_for(lambda: batcher.stats.dropped == dropped + 1, seconds=5)
    assert batcher.stats.queued_work == 0
    gate.open.set()
    held[0].join(120)
    assert held[1][0].status_code == 200
    assert ["5 May 2005"] not in gate.calls
