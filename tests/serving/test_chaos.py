"""bench/serve_chaos.py's clients, for a few seconds, against a real uvicorn server in this process.

The same mix as the benchmark (valid, oversized, malformed, invalid, too long, unknown model,
slow and stalled clients) with a 1 s request deadline: every answer must be right, nothing may
be a 5xx or an unexpected status, and every stalled connection must be cut off in time while
valid requests go on being answered.
"""

import asyncio
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import serve_chaos  # noqa: E402  (bench/ is not a package)

uvicorn = pytest.importorskip("uvicorn")

from keras_seq2seq.serving import Limits, create_app, load_models  # noqa: E402
from keras_seq2seq.serving.deadlines import head_deadline_protocol  # noqa: E402

REQUEST_TIMEOUT = 1.0  # seconds; short, so stalls end within the test


@pytest.fixture(scope="module")
def served(model_dir):
    """The server's URL and the expected answers, with every decode shape the test reaches compiled."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    models = load_models([f"dates={model_dir}"])
    # Computed with the server's own translator, in batches of 4 rows: that program is then
    # compiled already, and the warm-up below adds the 1- and 2-row ones (decodes are of at most
    # 4 sentences here, to keep compiling short).
    sentences = serve_chaos.load_sentences(model_dir, None, None)[:40]
    expected = serve_chaos.expected_translations(models["dates"].translator, sentences, batch_size=4)
    app = create_app(models, Limits(request_timeout=REQUEST_TIMEOUT), max_batch=4)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", timeout_keep_alive=5,
                            http=head_deadline_protocol(REQUEST_TIMEOUT))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    url = f"http://127.0.0.1:{port}"
    serve_chaos.warm_up(url, {0: sentences[:1]}, 4, max_batch=4)
    yield url, expected
    server.should_exit = True
    thread.join(30)


def test_hostile_clients_get_right_answers_no_5xx_and_stalls_are_cut_off(served):
    url, expected = served
    tally = asyncio.run(serve_chaos.run_chaos(url, os.getpid(), expected, clients=5, seconds=4,
                                              request_timeout=REQUEST_TIMEOUT, seed=1))
    assert sum(tally.wrong.values()) == 0, tally.first_wrong
    assert tally.server_errors() == 0
    assert tally.unexpected == []
    valid = sum(tally.statuses[kind][200] for kind in serve_chaos.VALID_KINDS)
    assert valid > 20
    assert all(tally.statuses[kind] for kind in ("oversized", "malformed", "invalid", "too_long"))
    # Client 0 is the slow one: its stalls were ended in time, and others went on meanwhile.
    assert tally.stalls and tally.late_stalls == 0
    assert max(tally.stall_seconds) < REQUEST_TIMEOUT * 1.5 + 3
    assert tally.answered_during_stalls() > 0
    assert tally.passed()


def test_every_kind_of_stalled_client_is_cut_off_after_the_deadline(served):
    url, _ = served
    host, port = url.removeprefix("http://").split(":")
    tally = serve_chaos.Tally(request_timeout=REQUEST_TIMEOUT)

    async def stall_all():
        await asyncio.gather(*(serve_chaos.stall(kind, host, int(port), REQUEST_TIMEOUT, tally)
                               for kind in serve_chaos.STALL_KINDS))

    asyncio.run(stall_all())
    # Silent and dripping heads are closed without a word; a stalled body gets 408.
    assert {kind: dict(tally.statuses[kind]) for kind in serve_chaos.STALL_KINDS} == {
        "stall_silent": {"closed": 1}, "stall_head": {"closed": 1}, "stall_body": {408: 1}}
    assert all(REQUEST_TIMEOUT * 0.9 < seconds < REQUEST_TIMEOUT * 1.5 + 3 for seconds in tally.stall_seconds)
