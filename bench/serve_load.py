"""Throughput and latency of `seq2seq serve` under load, with and without dynamic batching.

    python bench/serve_load.py --model runs/dates                      # dates test split as input
    python bench/serve_load.py --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv --source-lang spa
    python bench/serve_load.py --model runs/dates --seconds 10 --clients 1,8,32

Starts the real server (`python -m keras_seq2seq.cli serve`) on a free loopback port, once with
dynamic batching for each `--delay-ms` value (the server's `--max-batch-delay-ms`) and once
without (`--no-batching`: each request decoded alone, one after another). Against each, for every client count, that many
clients each send one request at a time (`--per-request` sentences, default 1) for `--seconds`.
Before measuring, every decode shape the run can reach is compiled (warm-up), so the figures are
steady-state ones. The clients run in this process (asyncio, one keep-alive connection each) and
share the CPU with the server, as local clients would.

Prints requests/s, sentences/s, p50/p95 latency, the server's mean decode batch (from its own
counters in /v1/health), and the speed-up of batching; the last line is machine-readable:

    serve: clients=32 rps=… sentences_per_s=… p50_ms=… p95_ms=… batching_speedup=…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="model directory to serve")
    parser.add_argument("--data", type=Path, help="corpus whose source side is sent (default: the "
                                                  "model's built-in task test split)")
    parser.add_argument("--source-lang", help="with --data: Tatoeba/Anki source language, e.g. spa")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per client count")
    parser.add_argument("--clients", default="1,8,32", help="comma-separated concurrent client counts")
    parser.add_argument("--per-request", type=int, default=1, help="sentences in each request")
    parser.add_argument("--beam-size", type=int, default=1, help="beam_size sent with each request")
    parser.add_argument("--max-batch", type=int, default=64, help="server --max-batch")
    parser.add_argument("--delay-ms", default="2",
                        help="comma-separated server --max-batch-delay-ms values to measure; the "
                             "speed-up is that of the first")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]

    sentences = load_sentences(args.model, args.data, args.source_lang)
    shapes = decode_shapes(args.model, sentences, args.max_batch)
    print(f"{len(sentences):,} input sentences; {args.seconds:g} s per client count; "
          f"{args.per_request} sentence(s) per request, beam {args.beam_size}", file=sys.stderr)

    modes = [(f"batch {float(d):g} ms", float(d)) for d in args.delay_ms.split(",")]
    modes.append(("one-at-a-time", None))
    results: dict[tuple[str, int], dict] = {}
    for mode, delay in modes:
        reachable = max(clients) * args.per_request if delay is not None else args.per_request
        with Server(args.model, args.max_batch, delay) as server:
            warm_up(server.url, shapes, reachable, args)
            for count in clients:
                before = server.stats()
                result = asyncio.run(load(server.url, sentences, count, args))
                after = server.stats()
                calls = after["decode_calls"] - before["decode_calls"]
                result["mean_batch"] = (after["items"] - before["items"]) / max(calls, 1)
                results[mode, count] = result
                print(f"  {mode:<14} clients={count:<3} {result['rps']:8.1f} req/s  "
                      f"p50 {result['p50_ms']:7.1f} ms  errors {result['errors']}"
                      f"{'  first: ' + result['first_error'] if result['first_error'] else ''}",
                      file=sys.stderr)

    print(f"\n{'mode':<14} {'clients':>7} {'req/s':>8} {'sent/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'batch':>6} {'errors':>6}")
    for (mode, count), r in results.items():
        print(f"{mode:<14} {count:>7} {r['rps']:>8.1f} {r['sentences_per_s']:>8.1f} {r['p50_ms']:>8.1f} "
              f"{r['p95_ms']:>8.1f} {r['mean_batch']:>6.1f} {r['errors']:>6}")
    print()
    batching = modes[0][0]
    for count in clients:
        speedup = results[batching, count]["rps"] / max(results["one-at-a-time", count]["rps"], 1e-9)
        print(f"dynamic batching ({batching}) speed-up at {count} clients: {speedup:.2f}x")
    top = max(clients)
    r = results[batching, top]
    speedup = r["rps"] / max(results["one-at-a-time", top]["rps"], 1e-9)
    print(f"serve: clients={top} rps={r['rps']:.1f} sentences_per_s={r['sentences_per_s']:.1f} "
          f"p50_ms={r['p50_ms']:.1f} p95_ms={r['p95_ms']:.1f} batching_speedup={speedup:.2f}")
    return 0


def load_sentences(model: Path, data: Path | None, source_lang: str | None) -> list[str]:
    from keras_seq2seq.artifacts import read_config

    if data is not None:
        from keras_seq2seq.data.corpus import read_corpus

        return [pair.source for pair in read_corpus(data, source_lang=source_lang)]
    task = read_config(model).get("data", {}).get("task")
    if task is None:
        sys.exit(f"serve_load: {model} was not trained on a built-in task; give --data FILE")
    from keras_seq2seq.data.tasks import task_splits

    return [pair.source for pair in task_splits(task, train=100, dev=10, test=2000)["test"]]


def decode_shapes(model: Path, sentences: list[str], max_batch: int) -> dict[int, list[str]]:
    """One example sentence per padded source length: the lengths the server will compile for."""
    from keras_seq2seq.data.batching import padded_length
    from keras_seq2seq.translator import Translator

    translator = Translator.load(model)
    step = translator.settings.train.length_step
    examples: dict[int, list[str]] = {}
    for sentence in sentences:
        examples.setdefault(padded_length(len(translator.encode_source(sentence)), step), [sentence])
    return examples


def warm_up(url: str, shapes: dict[int, list[str]], reachable: int, args) -> None:
    """Compile every (rows, length) program the measured run can reach, before measuring.

    Decode batches are padded to a few row counts (powers of 2 or 4, by the server's and the
    translator's rules); sending 1, 2, 3, 4, 5, 8, 9, 16, 17 … sentences (2^k and 2^k + 1) reaches
    every one of them without depending on which rule is in force."""
    import httpx

    counts = sorted({1} | {n for k in range(reachable.bit_length() + 1) for n in (2 ** k, 2 ** k + 1)
                           if n <= min(reachable, args.max_batch)})
    started = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        for count in counts:
            for examples in shapes.values():
                for start in range(0, count, 64):  # the server takes at most 64 sentences a request
                    text = examples * min(64, count - start)
                    response = client.post(f"{url}/v1/translate", json={"text": text, "beam_size": args.beam_size})
                    response.raise_for_status()
    print(f"  warm-up: batches of {counts} sentences x {len(shapes)} source lengths in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)


async def load(url: str, sentences: list[str], clients: int, args) -> dict:
    """`clients` loops, each on its own keep-alive connection, sending its next request when the
    previous one is answered. A minimal HTTP/1.1 client on asyncio streams: at 32 clients an
    httpx.AsyncClient spent more CPU than the server it measured (both share this machine)."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    first_error = ""
    deadline = time.perf_counter() + args.seconds

    async def client_loop(index: int) -> None:
        nonlocal errors, first_error
        reader, writer = await asyncio.open_connection(host, int(port))
        position = index * 7919  # clients start at different places in the input
        try:
            while time.perf_counter() < deadline:
                text = [sentences[(position + i) % len(sentences)] for i in range(args.per_request)]
                position += args.per_request
                body = json.dumps({"text": text, "beam_size": args.beam_size}).encode()
                started = time.perf_counter()
                writer.write(b"POST /v1/translate HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (host.encode(), len(body), body))
                status, payload = await read_response(reader)
                if status == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
                    first_error = first_error or f"HTTP {status}: {payload[:200]!r}"
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            errors += 1
            first_error = first_error or f"{type(error).__name__}: {error}"
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client_loop(i) for i in range(clients)))
    elapsed = time.perf_counter() - began  # includes the requests in flight at the deadline
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "sentences_per_s": len(latencies) * args.per_request / elapsed,
            "p50_ms": percentile(latencies, 50) * 1000, "p95_ms": percentile(latencies, 95) * 1000,
            "errors": errors, "first_error": first_error, "requests": len(latencies)}


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response."""
    status, _, body = await read_reply(reader)
    return status, body


async def read_reply(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 response: uvicorn sends a
    Content-Length, except on the 400 for an unparsable request, whose body ends with the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    return status, headers, await reader.read()


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[index]


class Server:
    """`seq2seq serve` in a subprocess on a free loopback port, stopped with SIGTERM on exit."""

    def __init__(self, model: Path, max_batch: int, delay_ms: float | None, extra: tuple[str, ...] = ()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "keras_seq2seq.cli", "serve", "--model", str(model),
                        "--port", str(self.port), "--max-batch", str(max_batch), "--log-level", "warning"]
        self.command += ["--no-batching"] if delay_ms is None else ["--max-batch-delay-ms", str(delay_ms)]
        self.command += list(extra)

    def __enter__(self) -> "Server":
        import httpx

        self.process = subprocess.Popen(self.command)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"serve_load: the server exited with status {self.process.returncode}")
            try:
                httpx.get(f"{self.url}/v1/health", timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.3)
        self.process.kill()
        sys.exit("serve_load: the server did not start within 300 s")

    def stats(self) -> dict:
        import httpx

        return httpx.get(f"{self.url}/v1/health", timeout=30).json()["batcher"]

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()


if __name__ == "__main__":
    sys.exit(main())
