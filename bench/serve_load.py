"""Throughput and latency of `seq2seq serve` under load, with and without dynamic batching.

    python bench/serve_load.py --model runs/dates                      # dates test split as input
    python bench/serve_load.py --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv --source-lang spa
    python bench/serve_load.py --model runs/dates --seconds 10 --clients 1,8,32

Starts the real server on a free loopback port, once with dynamic batching per `--delay-ms` value
and once without (`--no-batching`); against each, for every client count, that many clients
each send one request at a time (`--per-request` sentences) for `--seconds`, after every decode
shape the run can reach is compiled. The clients run in this process (asyncio, one keep-alive
connection each) and share the CPU with the server, as local clients would. Last line:

    serve: clients=32 rps=… sentences_per_s=… p50_ms=… p95_ms=… batching_speedup=…
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from common import (Server, argument_parser, as_the_command_does, decode_shapes, last_line, load_sentences, percentile,
                    read_reply, warm_up)



def main() -> int:
    parser = argument_parser(__doc__)
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
    as_the_command_does()
    clients = [int(c) for c in args.clients.split(",")]

    sentences = load_sentences(args.model, args.data, args.source_lang)
    shapes = decode_shapes(args.model, sentences)
    print(f"{len(sentences):,} input sentences; {args.seconds:g} s per client count; "
          f"{args.per_request} sentence(s) per request, beam {args.beam_size}", file=sys.stderr)

    modes = [(f"batch {float(d):g} ms", float(d)) for d in args.delay_ms.split(",")]
    modes.append(("one-at-a-time", None))
    results: dict[tuple[str, int], dict] = {}
    for mode, delay in modes:
        reachable = max(clients) * args.per_request if delay is not None else args.per_request
        with Server(args.model, args.max_batch, delay) as server:
            warm_up(server.url, shapes, reachable, args.max_batch, args.beam_size)
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
    last_line("serve", {"clients": top, "rps": f"{r['rps']:.1f}", "sentences_per_s": f"{r['sentences_per_s']:.1f}",
                        "p50_ms": f"{r['p50_ms']:.1f}", "p95_ms": f"{r['p95_ms']:.1f}",
                        "batching_speedup": f"{speedup:.2f}"})
    return 0


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
                status, _, payload = await read_reply(reader)
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


if __name__ == "__main__":
    sys.exit(main())
