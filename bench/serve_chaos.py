"""`seq2seq serve` under hostile load: right answers, no 5xx, flat memory, stalled clients cut off.

    python bench/serve_chaos.py                                     # trains a tiny dates model first
    python bench/serve_chaos.py --model runs/quality-side-10 --data ../shared/data/spa-eng/test.tsv \\
        --source-lang spa --seconds 60 --clients 32

Starts the real server on a free loopback port, compiles every decode shape the run can reach,
then `--clients` clients run for `--seconds`: most send a mix of valid requests (each answer
compared with the greedy translation `Translator` gave in this process beforehand) and bad ones
(FAST_KINDS); one client in eight is slow, sending valid requests in pieces, or stalls (SLOW_KINDS).
A stalled connection must be closed by the server within about `--request-timeout`, and valid
requests must keep being answered meanwhile. Server memory is its VmRSS after warm-up and at the
end. bench/README.md says what each kind sends. Last line:

    chaos: requests=… wrong=0 5xx=0 unexpected=0 rss_start_mb=… rss_end_mb=… p50_ms=… p99_ms=…

Exits 1 if any answer was wrong, any status was 5xx or not the one expected, a stalled connection
outlived its deadline, or no valid request was answered while stalls were open.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from common import (Server, argument_parser, as_the_command_does, decode_shapes, last_line, load_sentences,
                    percentile, read_reply, train_dates_model, warm_up)

SLOW_CLIENT_EVERY = 8     # clients 0, 8, 16, … are slow ones
FAST_KINDS = {            # kind: weight in the fast clients' mix
    "single": 40, "list": 20, "oversized": 6, "malformed": 10, "invalid": 12, "too_long": 6,
    "unknown_model": 6}
SLOW_KINDS = {"slow": 2, "stall_silent": 1, "stall_head": 1, "stall_body": 1}
# A fast client reuses a connection idle this long at most: under the server's keep-alive (5 s)
# and, as `run_chaos` applies it, half its head deadline (the next request head on a kept
# connection must arrive within `--request-timeout` of the last response, or it is closed).
REUSE_SECONDS = 4.0
VALID_KINDS = ("single", "list", "slow")
STALL_KINDS = ("stall_silent", "stall_head", "stall_body")
# What each kind must get back; "closed" means the server closed the connection without a response.
EXPECTED = {"single": {200}, "list": {200}, "slow": {200}, "oversized": {413}, "malformed": {400, 422},
            "invalid": {405, 422}, "too_long": {422}, "unknown_model": {404},
            "stall_silent": {"closed"}, "stall_head": {"closed"}, "stall_body": {408}}


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--model", type=Path, help="model directory to serve (default: train a tiny "
                                                   "dates model into a temporary directory)")
    parser.add_argument("--data", type=Path, help="corpus whose source side is sent (default: the "
                                                  "model's built-in task test split)")
    parser.add_argument("--source-lang", help="with --data: Tatoeba/Anki source language, e.g. spa")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients run")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--sentences", type=int, default=300, help="distinct valid sentences sent")
    parser.add_argument("--request-timeout", type=float, default=10.0, help="server --request-timeout")
    parser.add_argument("--max-batch", type=int, default=64, help="server --max-batch")
    parser.add_argument("--delay-ms", type=float, default=2.0, help="server --max-batch-delay-ms")
    parser.add_argument("--seed", type=int, default=0, help="seed of the clients' choices")
    args = parser.parse_args()
    as_the_command_does()

    with tempfile.TemporaryDirectory(prefix="serve-chaos-") as scratch:
        model = args.model or train_dates_model(Path(scratch) / "model", epochs=2, units=64, embedding_dim=32,
                                                      attention="luong-dot")
        sentences = load_sentences(model, args.data, args.source_lang)[: args.sentences]
        from keras_seq2seq import Translator

        expected = expected_translations(Translator.load(model), sentences)
        shapes = decode_shapes(model, sentences)
        with Server(model, args.max_batch, args.delay_ms,
                    extra=("--request-timeout", str(args.request_timeout), "--log-level", "error")) as server:
            warm_up(server.url, shapes, args.max_batch, args.max_batch)
            tally = asyncio.run(run_chaos(server.url, server.process.pid, expected, args.clients,
                                          args.seconds, args.request_timeout, args.seed))
    print_report(tally, args)
    return 0 if tally.passed() else 1


def expected_translations(translator, sentences: list[str], batch_size: int = 64) -> dict[str, str]:
    """Greedy translations computed here, in the bench process, to check the server's against."""
    unique = list(dict.fromkeys(sentences))
    return dict(zip(unique, translator.translate(unique, batch_size=batch_size)))


@dataclass
class Tally:
    """Everything the clients saw."""

    statuses: dict = field(default_factory=lambda: defaultdict(Counter))   # kind -> Counter(status)
    latencies: dict = field(default_factory=lambda: defaultdict(list))     # kind -> seconds
    wrong: Counter = field(default_factory=Counter)                        # kind -> wrong answers
    first_wrong: str = ""
    unexpected: list = field(default_factory=list)                         # (kind, status, body)
    stall_seconds: list = field(default_factory=list)                      # until the server cut it off
    stalls: list = field(default_factory=list)                             # (start, end) monotonic
    answered_at: list = field(default_factory=list)                        # valid 200s, monotonic
    rss_mb: list = field(default_factory=list)                             # (seconds, MB) samples
    late_stalls: int = 0
    request_timeout: float = 10.0

    def record(self, kind: str, status, body: bytes, seconds: float) -> None:
        self.statuses[kind][status] += 1
        self.latencies[kind].append(seconds)
        if status not in EXPECTED[kind]:
            self.unexpected.append((kind, status, body[:200]))

    def server_errors(self) -> int:
        return sum(n for counts in self.statuses.values() for s, n in counts.items()
                   if isinstance(s, int) and s >= 500)

    def answered_during_stalls(self) -> int:
        return sum(any(start <= t <= end for start, end in self.stalls) for t in self.answered_at)

    def valid_latencies(self) -> list[float]:
        return sorted(t for kind in ("single", "list") for t in self.latencies[kind])

    def passed(self) -> bool:
        return (not sum(self.wrong.values()) and not self.server_errors() and not self.unexpected
                and not self.late_stalls and (not self.stalls or self.answered_during_stalls() > 0))


async def run_chaos(url: str, pid: int, expected: dict[str, str], clients: int, seconds: float,
                    request_timeout: float, seed: int = 0) -> Tally:
    """`clients` clients against the server at `url` for `seconds`; the server's memory from `pid`."""
    from keras_seq2seq.serving.limits import Limits

    host, port = url.removeprefix("http://").split(":")
    tally = Tally(request_timeout=request_timeout)
    requests = Requests(sorted(expected), Limits())
    began = time.monotonic()
    deadline = began + seconds
    reuse_seconds = min(REUSE_SECONDS, request_timeout / 2)

    async def watch_memory() -> None:
        while time.monotonic() < deadline:
            tally.rss_mb.append((time.monotonic() - began, rss_mb(pid)))
            await asyncio.sleep(1.0)
        tally.rss_mb.append((time.monotonic() - began, rss_mb(pid)))

    async def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        slow = index % SLOW_CLIENT_EVERY == 0
        mix = SLOW_KINDS if slow else FAST_KINDS
        kinds, weights = list(mix), list(mix.values())
        connection, last_used = None, 0.0
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if kind in STALL_KINDS:
                await stall(kind, host, int(port), request_timeout, tally)
                continue
            if kind in ("single", "list"):
                texts = requests.valid(kind, rng)
                if connection is not None and time.monotonic() - last_used > reuse_seconds:
                    connection[1].close()  # as HTTP clients do, rather than race the server's close
                    connection = None
                if connection is None:
                    connection = await asyncio.open_connection(host, int(port))
                started = time.monotonic()
                try:
                    status, headers, body = await send(connection, requests.post({"text": texts}, host))
                except (OSError, asyncio.IncompleteReadError) as error:  # the server dropped us
                    connection = None
                    tally.record(kind, type(error).__name__, b"", time.monotonic() - started)
                    continue
                last_used = time.monotonic()
                if headers.get("connection") == "close":
                    connection[1].close()
                    connection = None
                check_answer(kind, status, body, texts, expected, started, tally)
            elif kind == "slow":
                texts = requests.valid("single", rng)
                started = time.monotonic()
                status, _, body = await exchange(host, int(port), requests.post({"text": texts}, host),
                                                 pieces=4, pause=request_timeout * 0.3 / 2)
                check_answer(kind, status, body, texts, expected, started, tally)
            else:
                raw = requests.bad(kind, rng, host)
                started = time.monotonic()
                status, _, body = await exchange(host, int(port), raw)
                tally.record(kind, status, body, time.monotonic() - started)
        if connection is not None:
            connection[1].close()

    await asyncio.gather(watch_memory(), *(client(i) for i in range(clients)))
    return tally


def check_answer(kind: str, status, body: bytes, texts: list[str], expected: dict[str, str],
                 started: float, tally: Tally) -> None:
    tally.record(kind, status, body, time.monotonic() - started)
    if status != 200:
        return
    tally.answered_at.append(time.monotonic())
    got = json.loads(body)["translations"]
    want = [expected[text] for text in texts]
    if got != want:
        tally.wrong[kind] += 1
        tally.first_wrong = tally.first_wrong or f"{texts!r}: got {got!r}, expected {want!r}"


class Requests:
    """Raw HTTP/1.1 requests of every kind."""

    def __init__(self, sentences: list[str], limits):
        self.sentences = sentences
        self.limits = limits

    def valid(self, kind: str, rng: random.Random) -> list[str]:
        return rng.sample(self.sentences, 1 if kind == "single" else min(len(self.sentences), rng.randint(2, 8)))

    @staticmethod
    def post(body, host: str, path: str = "/v1/translate", extra: bytes = b"") -> bytes:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        return (b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%sContent-Length: %d"
                b"\r\n\r\n%s" % (path.encode(), host.encode(), extra, len(payload), payload))

    def bad(self, kind: str, rng: random.Random, host: str) -> bytes:
        limits = self.limits
        if kind == "oversized":
            big = json.dumps({"text": "x" * (limits.max_body_bytes + 100)}).encode()
            if rng.random() < 0.5:
                return self.post(big, host)
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 8192]), big[i:i + 8192])
                              for i in range(0, len(big), 8192))
            return (b"POST /v1/translate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n%s0\r\n\r\n" % (host.encode(), chunks))
        if kind == "malformed":
            choice = rng.choice([b'{"text": "May 4', b"not json", b'{"text": "\xff\xfe\x00"}', b'{"text": ["a",]}',
                                 b"[" * 60000, b"", b"null", b"GARBAGE"])
            if choice == b"GARBAGE":
                return b"GARBAGE \x00\x01 NOT HTTP\r\n\r\n"
            return self.post(choice, host)
        if kind == "invalid":
            choice = rng.choice([{"beam_size": 0}, {"beam_size": "5"}, {"n_best": 3}, {"unknown": 1},
                                 {"sample": True, "top_p": 2}, {"length_penalty": -1}, {"beam_size": 10 ** 30},
                                 {"text": 5}, {"text": []}, {"text": None}, "nan", "get"])
            if choice == "get":
                return b"GET /v1/translate HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode()
            if choice == "nan":
                return self.post(b'{"text": "x", "sample": true, "temperature": NaN}', host)
            return self.post({"text": "May 4, 1999", **choice}, host)
        if kind == "too_long":
            if rng.random() < 0.5:
                return self.post({"text": "a" * (limits.max_chars + 1)}, host)
            return self.post({"text": ["May 4"] * (limits.max_sentences + 1)}, host)
        if kind == "unknown_model":
            return self.post({"text": "May 4, 1999", "model": "no-such-model"}, host)
        raise ValueError(kind)


async def send(connection, raw: bytes):
    reader, writer = connection
    writer.write(raw)
    await writer.drain()
    return await asyncio.wait_for(read_reply(reader), 120)


async def exchange(host: str, port: int, raw: bytes, pieces: int = 1, pause: float = 0.0):
    """Send `raw` on a new connection, in `pieces` with `pause` seconds between them; the reply
    (or status "closed" when the server closed without one, or an error name)."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        return type(error).__name__, {}, b""
    try:
        step = -(-len(raw) // pieces)
        for i in range(0, len(raw), step):
            if i:
                await asyncio.sleep(pause)
            writer.write(raw[i:i + step])
            await writer.drain()
        return await asyncio.wait_for(read_reply(reader), 120)
    except asyncio.IncompleteReadError as error:
        return ("closed" if not error.partial else "IncompleteRead"), {}, b""
    except (OSError, asyncio.TimeoutError) as error:
        return type(error).__name__, {}, b""
    finally:
        writer.close()


async def stall(kind: str, host: str, port: int, request_timeout: float, tally: Tally) -> None:
    """Hold a connection without finishing a request; the server must end it in time."""
    started = time.monotonic()
    limit = request_timeout * 1.5 + 3  # the deadline, plus slack for a busy machine
    reader, writer = await asyncio.open_connection(host, port)
    try:
        if kind == "stall_head":
            writer.write(b"POST /v1/translate HTTP/1.1\r\nHost: x\r\n")
        elif kind == "stall_body":
            writer.write(b"POST /v1/translate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100\r\n\r\n{\"text\": ")
        reply = asyncio.ensure_future(read_reply(reader))
        while not reply.done() and time.monotonic() - started < limit:
            await asyncio.wait([reply], timeout=request_timeout / 4)
            if kind == "stall_head" and not reply.done() and not writer.is_closing():
                writer.write(b"X")  # a drip: one more byte of a header that never ends
        if not reply.done():
            reply.cancel()
            tally.late_stalls += 1
            status, body = "open", b""
        else:
            try:
                status, _, body = reply.result()
            except (asyncio.IncompleteReadError, ConnectionResetError):
                # A reset is how a close reaches a client whose last bytes the server never read.
                status, body = "closed", b""
            except OSError as error:
                status, body = type(error).__name__, b""
    finally:
        writer.close()
    ended = time.monotonic()
    tally.stalls.append((started, ended))
    tally.stall_seconds.append(ended - started)
    tally.record(kind, status, body, ended - started)


def rss_mb(pid: int) -> float:
    """The process's resident memory (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_every(samples: list[tuple[float, float]], parts: int) -> list[float]:
    """The RSS samples at 0, 1/parts, …, 1 of the run: a leak grows steadily, a cache levels off."""
    end = samples[-1][0]
    return [min(samples, key=lambda s: abs(s[0] - end * i / parts))[1] for i in range(parts + 1)]


def print_report(tally: Tally, args) -> None:
    print(f"\n{'kind':<14} {'requests':>8} {'wrong':>6} {'p50 ms':>8}  statuses")
    for kind in EXPECTED:
        counts = tally.statuses.get(kind)
        if not counts:
            continue
        latencies = sorted(tally.latencies[kind])
        seen = ", ".join(f"{status}×{n}" for status, n in sorted(counts.items(), key=lambda x: str(x[0])))
        print(f"{kind:<14} {sum(counts.values()):>8} {tally.wrong[kind]:>6} "
              f"{percentile(latencies, 50) * 1000:>8.1f}  {seen}")
    valid = tally.valid_latencies()
    requests = sum(sum(c.values()) for c in tally.statuses.values())
    wrong = sum(tally.wrong.values())
    rss_start, rss_end = tally.rss_mb[0][1], tally.rss_mb[-1][1]
    rss_peak = max(mb for _, mb in tally.rss_mb)
    print(f"\n{requests} requests from {args.clients} clients in {args.seconds:g} s; valid answered "
          f"{len(valid)} (p50 {percentile(valid, 50) * 1000:.1f} ms, p99 {percentile(valid, 99) * 1000:.1f} ms)")
    print(f"wrong answers: {wrong}{'  first: ' + tally.first_wrong if tally.first_wrong else ''}")
    print(f"5xx responses: {tally.server_errors()}; unexpected statuses: {len(tally.unexpected)}"
          + "".join(f"\n  {kind}: {status} {body!r}" for kind, status, body in tally.unexpected[:5]))
    if tally.stalls:
        stalled = sorted(tally.stall_seconds)
        print(f"stalled connections: {len(stalled)}, ended by the server after {stalled[0]:.1f}-"
              f"{stalled[-1]:.1f} s (--request-timeout {args.request_timeout:g}); still open past the "
              f"deadline: {tally.late_stalls}; valid answers (slow ones too) while stalls were open: "
              f"{tally.answered_during_stalls()}")
    print(f"server RSS: {rss_start:.1f} MB after warm-up, {rss_peak:.1f} MB peak, {rss_end:.1f} MB at the end; "
          f"every {args.seconds / 6:g} s: " + " ".join(f"{mb:.1f}" for mb in rss_every(tally.rss_mb, 6)))
    last_line("chaos", {"requests": requests, "wrong": wrong, "5xx": tally.server_errors(),
                        "unexpected": len(tally.unexpected), "rss_start_mb": f"{rss_start:.1f}",
                        "rss_end_mb": f"{rss_end:.1f}", "p50_ms": f"{percentile(valid, 50) * 1000:.1f}",
                        "p99_ms": f"{percentile(valid, 99) * 1000:.1f}"})


if __name__ == "__main__":
    sys.exit(main())
