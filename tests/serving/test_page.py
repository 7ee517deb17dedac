"""The real server in its own process: the page in a real headless Chromium, and a graceful stop.

Chromium is Debian's package (`apt-get install chromium`; `.ci/run` installs it), driven by
Playwright for Python; Playwright's own browser download is not used.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_dir, **environment):
    """`seq2seq serve` as a user starts it (with `environment` added to its own), once it
    answers; returns (base URL, process)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "keras_seq2seq.cli", "serve", "--model", str(model_dir),
         "--port", str(port), "--log-level", "warning"],
        env={**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax"), **environment},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{process.stdout.read()}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return url, process
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the server did not answer /v1/health within 180 s")
        time.sleep(0.3)


def stop_server(process) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def server(model_dir):
    url, process = start_server(model_dir)
    yield url, process
    stop_server(process)


@pytest.fixture(scope="module")
def chat_server(dialogue_dir):
    url, process = start_server(dialogue_dir)
    yield url
    stop_server(process)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)")
def test_the_page_translates_what_is_typed_and_draws_the_attention_map(server):
    from playwright.sync_api import sync_playwright

    url, _ = server
    sentence = "March 3, 2021"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#model option", state="attached")  # the models list has loaded
            page.fill("#source", sentence)
            page.fill("#beam", "1")  # greedy: the program the API call below also uses
            page.check("#attention")
            page.click("#translate")
            page.wait_for_selector(".result .translation", timeout=120_000)
            shown = page.inner_text(".result .translation")
            rows = page.locator("table.heatmap tbody tr").count()
            columns = page.locator("table.heatmap thead th").count() - 1
            status = page.inner_text("#status")
        finally:
            browser.close()
    expected = httpx.post(f"{url}/v1/translate", json={"text": [sentence], "attention": True}, timeout=120).json()
    assert shown == expected["translations"][0]
    assert rows == len(expected["attention"][0]["target_tokens"])
    assert columns == len(sentence)
    assert status.startswith("1 sentence in")


API_KEY = "page-test-key"


@pytest.fixture(scope="module")
def keyed_server(model_dir):
    """The server with SEQ2SEQ_API_KEY in its environment."""
    url, process = start_server(model_dir, SEQ2SEQ_API_KEY=API_KEY)
    yield url, process
    stop_server(process)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)")
def test_the_page_asks_once_for_the_api_key_and_keeps_it_for_the_tab(keyed_server):
    from playwright.sync_api import sync_playwright

    url, _ = keyed_server
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept(API_KEY)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", answer)
            page.goto(url)
            page.wait_for_selector("#model option", state="attached")  # the key opened /v1/models
            page.fill("#source", "March 3, 2021")
            page.fill("#beam", "1")
            page.click("#translate")
            page.wait_for_selector(".result .translation", timeout=120_000)
            for _ in range(2):  # later calls send the kept key: no more questions
                page.click("#translate")
                page.wait_for_function("document.querySelector('#status').textContent.startsWith('1 sentence')")
            stored = page.evaluate("sessionStorage.getItem('seq2seq-api-key')")
            docs_hidden = page.locator("#docs-link").is_hidden()
        finally:
            browser.close()
    assert len(asked) == 1 and "API key" in asked[0]
    assert stored == API_KEY
    assert docs_hidden  # the API docs are off unless the server is started with --docs
    assert httpx.post(f"{url}/v1/translate", json={"text": "x"}, timeout=60).status_code == 401


def test_sigterm_answers_the_requests_in_flight_then_exits(server):
    url, process = server
    finished: dict[int, tuple[int, float]] = {}

    def ask(i: int) -> None:
        # beam_size 3 is a program this server has not compiled yet: the requests take seconds.
        response = httpx.post(f"{url}/v1/translate", json={"text": [f"{i + 1} May 2003"], "beam_size": 3},
                              timeout=300)
        finished[i] = (response.status_code, time.monotonic())

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(300)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells how it ended.
    assert process.wait(120) in (0, -signal.SIGTERM)
    assert sorted(finished) == [0, 1, 2, 3]
    assert all(status == 200 for status, _ in finished.values()), finished
    # The answers came after the signal: the server stopped only once they were sent.
    assert all(at > stopped for _, at in finished.values())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)")
def test_the_page_holds_a_conversation_with_a_dialogue_model(chat_server):
    from playwright.sync_api import sync_playwright

    messages = ["March 3, 2021", "4 July 1976", "12 May 2003"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(chat_server)
            page.wait_for_selector("#chat:not([hidden])")  # a dialogue model: the page talks
            assert not page.is_visible("#source") and not page.is_visible("#translate")
            page.fill("#beam", "2")
            for count, message in enumerate(messages, 1):
                page.fill("#message", message)
                page.press("#message", "Enter")
                page.wait_for_function(f"document.querySelectorAll('#turns li.model').length == {count}",
                                       timeout=120_000)
            shown = page.locator("#turns li").all_inner_texts()
            speakers = page.eval_on_selector_all("#turns li", "items => items.map(item => item.className)")
            page.click("#new-chat")
            left = page.locator("#turns li").count()
        finally:
            browser.close()
    assert speakers == ["user", "model"] * 3
    assert shown[0::2] == messages
    # Each reply is what the API gives for the conversation up to it: the page sent every turn.
    for count in (1, 2, 3):
        turns = shown[: 2 * count - 1]
        expected = httpx.post(f"{chat_server}/v1/reply", timeout=120, json={
            "turns": turns, "beam_size": 2, "length_penalty": 1.0, "no_repeat_ngram": 3}).json()
        assert shown[2 * count - 1] == expected["reply"]
    assert left == 0


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (apt-get install chromium)")
def test_the_conversation_sends_the_api_key_the_page_was_given(dialogue_dir):
    from playwright.sync_api import sync_playwright

    url, process = start_server(dialogue_dir, SEQ2SEQ_API_KEY=API_KEY)
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept(API_KEY)

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.on("dialog", answer)
                page.goto(url)
                page.wait_for_selector("#chat:not([hidden])")  # the key opened /v1/models
                page.fill("#message", "March 3, 2021")
                page.press("#message", "Enter")
                page.wait_for_function("document.querySelectorAll('#turns li.model').length == 1"
                                       " || document.querySelector('#status').className == 'error'",
                                       timeout=120_000)
                status = page.inner_text("#status")
            finally:
                browser.close()
    finally:
        stop_server(process)
    assert len(asked) == 1 and status.startswith("Replied in"), status
