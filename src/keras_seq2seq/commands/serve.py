"""`seq2seq serve --model DIR [--model NAME=DIR ...]`: translate over HTTP, with a page at `/`.

    seq2seq serve --model runs/dates                       # http://127.0.0.1:8000/
    seq2seq serve --model spa=runs/spa-eng --model dates=runs/dates --port 8080
    curl -s localhost:8000/v1/translate -H 'content-type: application/json' -d '{"text": "May 4, 1999"}'

Sentences from concurrent requests are decoded together (see `serving/batcher.py`);
`--no-batching` turns that off. Ctrl-C or SIGTERM stops taking connections, answers the
requests in flight, then exits.
"""

from __future__ import annotations

import sys

from keras_seq2seq.commands.options import number, positive_int, whole_number


def register(commands, command) -> None:
    serve = command(commands, "serve", run_serve, "serve models over HTTP: a JSON API and a page")
    serve.add_argument("--model", action="append", required=True, metavar="[NAME=]DIR",
                       help="model directory (or ONNX export directory) to serve, optionally named "
                            "(repeat for several; the first is the default)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    group = serve.add_argument_group("batching")
    group.add_argument("--max-batch", type=positive_int, default=64,
                       help="most sentences decoded together in one call")
    group.add_argument("--max-batch-delay-ms", type=number(positive=False), default=2.0,
                       help="how long a request waits for others to join its batch; with 0 a batch "
                            "is whatever queued up while the previous one decoded")
    group.add_argument("--no-batching", action="store_true",
                       help="decode every request on its own, one after another (for comparison)")
    serve.add_argument("--shortlist", type=whole_number(0), default=0, metavar="SIZE",
                       help="greedy and beam requests score only SIZE likely target words per batch "
                            "(every model needs its shortlist.json; see `seq2seq shortlist`)")
    group = serve.add_argument_group("limits per request (larger requests get a 4xx JSON error)")
    group.add_argument("--max-sentences", type=positive_int, default=64, help="sentences per request")
    group.add_argument("--max-chars", type=positive_int, default=1000, help="characters per sentence")
    group.add_argument("--max-body-bytes", type=positive_int, default=64 * 1024, help="request body size")
    group.add_argument("--max-beam-size", type=positive_int, default=16, help="largest beam_size")
    group.add_argument("--request-timeout", type=number(positive=True), default=10.0, metavar="SECONDS",
                       help="a client has this long to send a request's head, then as long for its "
                            "body (408); a connection that stalls is closed, not kept")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                       help="uvicorn's log level (info logs each request)")


def run_serve(args) -> int:
    from keras_seq2seq.extras import require

    require("serve", "`seq2seq serve`")
    import uvicorn

    from keras_seq2seq.serving import Limits, create_app, load_models
    from keras_seq2seq.serving.deadlines import head_deadline_protocol

    limits = Limits(max_body_bytes=args.max_body_bytes, max_sentences=args.max_sentences,
                    max_chars=args.max_chars, max_beam_size=args.max_beam_size,
                    request_timeout=args.request_timeout)
    models = load_models(args.model, shortlist=args.shortlist)
    app = create_app(models, limits, max_batch=args.max_batch, max_delay=args.max_batch_delay_ms / 1000,
                     batching=not args.no_batching)
    for model in models.values():
        print(f"model {model.name!r}: {model.directory}", file=sys.stderr)
    batching = (f"batches of up to {args.max_batch} sentences, {args.max_batch_delay_ms:g} ms wait"
                if app.state.batcher.batching else "no batching")
    print(f"serving on http://{args.host}:{args.port}/ (API docs at /docs; {batching})", file=sys.stderr)
    # Idle keep-alive connections close after 5 s (uvicorn's own timer); stalled requests after
    # --request-timeout (serving/deadlines.py).
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_keep_alive=5,
                http=head_deadline_protocol(args.request_timeout))
    return 0
