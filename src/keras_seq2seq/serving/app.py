"""The HTTP server: routes, error responses, and the page, around one `DynamicBatcher`.

    POST /v1/translate   {"text": "..." | ["...", ...], "model"?, "beam_size"?, "n_best"?, "sample"?, ...}
                         -> {"model", "translations": [best text per sentence], "scores": [...],
                             "n_best": [[{"text", "score"}, ...] per sentence] (when n_best > 1)}
    POST /v1/reply       {"turns": ["...", ...], "model"?, "beam_size"?, "sample"?, ...}: a dialogue
                         model's next turn -> {"model", "reply", "score", "context"}
    GET  /v1/models      the loaded models, described (see registry.ServedModel.describe)
    GET  /v1/health      "ok", and the batcher's counts of requests, sentences and decode calls
    GET  /               the page (static/index.html); OpenAPI docs at /docs with `docs=True`

Every error body is `{"error": "<what was wrong>"}` (plus `"details"` for schema errors).

With an `api_key` (`seq2seq serve` takes it from `SEQ2SEQ_API_KEY`), every `/v1/` route except
`/v1/health` answers 401 unless the request carries `Authorization: Bearer <key>`; the page and
its files stay public (the page asks for the key). The docs pages (`docs=True`) load Swagger UI
and ReDoc from a CDN, so they are off by default: the server itself never makes a browser call
a third party.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from keras_seq2seq.data.dialogue import CONTEXT_TURNS, context_source
from keras_seq2seq.serving.batcher import BatcherBusy, BatcherClosed, CallerGone, DeadlineExceeded, DynamicBatcher
from keras_seq2seq.serving.limits import (Limits, ReplyRequest, RequestError, TranslateRequest, check_reply,
                                          check_translate, sentences_of)
from keras_seq2seq.serving.registry import ServedModel

STATIC_DIR = Path(__file__).parent / "static"
# Most work queued for decoding, in sentences x beam size: 32 full greedy batches of 64 sentences;
# larger requests may fill half of it (one maximum-size beam-16 request is 1,024). Past it a
# request gets 503 and Retry-After (`seq2seq serve --max-queued-work`).
MAX_QUEUED_WORK = 2048


def make_decoder(models: dict[str, ServedModel], max_batch: int):
    """The batcher's `run_batch`: one `translate_n_best` call for a key's combined sentences."""

    def run_batch(key: tuple, texts: list[str]) -> list:
        name, options = key[:2]  # (name, options[, token that keeps a sampled request alone])
        translator = models[name].translator
        # The translator pads the rows to a power of two (`shapes.decode_rows`): few shapes.
        rows = max_batch
        if options.attention:  # the best output with its attention matrix (target x source)
            return translator.align(texts, batch_size=rows, options=options)
        return translator.translate_n_best(texts, batch_size=rows, options=options)

    return run_batch


def create_app(models: dict[str, ServedModel], limits: Limits | None = None, max_batch: int = 64,
               max_delay: float = 0.002, batching: bool = True,
               max_queued_work: int | None = MAX_QUEUED_WORK, api_key: str | None = None,
               docs: bool = False) -> FastAPI:
    """A FastAPI app serving `models` (the first is the default); the batcher runs in its lifespan.

    `max_queued_work` bounds the decoding queue, in sentences x beam size (None: no bound);
    requests past it get 503 with `Retry-After`. With `api_key`, the `/v1/` routes but
    `/v1/health` need it as a Bearer token. `docs` serves the OpenAPI docs at /docs and /redoc.
    """
    if not models:
        raise ValueError("a server needs at least one model")
    limits = limits or Limits()
    default_model = next(iter(models))
    batcher = DynamicBatcher(make_decoder(models, max_batch), max_batch=max_batch, max_delay=max_delay,
                             combine=batching, max_queued_work=max_queued_work)
    started = time.time()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        yield
        # uvicorn has answered the requests in flight; finish anything still queued, then stop.
        await asyncio.to_thread(batcher.close)

    app = FastAPI(title="keras-seq2seq", version="1", lifespan=lifespan,
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None,
                  description="Translate with trained keras-seq2seq models. Sentences from concurrent "
                              "requests are decoded together (dynamic batching).")
    app.state.batcher = batcher
    app.state.limits = limits
    app.add_middleware(BodyLimits, max_bytes=limits.max_body_bytes, seconds=limits.request_timeout)
    if api_key is not None:  # outermost: a request without the key is refused before its body is read
        app.add_middleware(ApiKey, key=api_key)
    _add_error_handlers(app, limits)

    async def decode(key: tuple, texts: list[str], work: int, http: Request) -> list:
        """The batcher's results for `texts`, its refusals as JSON errors: 503 with `Retry-After`
        when the queue is full or the request waited past the decode deadline, 499 when the
        client went away before its turn (nothing was decoded for it)."""
        try:
            return await batcher.submit(key, texts, work=work, timeout=limits.decode_timeout,
                                        gone=_client_gone(http))
        except BatcherClosed:
            raise RequestError(503, "the server is shutting down; retry on another instance") from None
        except BatcherBusy as busy:
            raise RequestError(503, "the server is busy: its decoding queue is full; retry after "
                                    f"{math.ceil(busy.retry_after)} s",
                               headers={"retry-after": str(math.ceil(busy.retry_after))}) from None
        except DeadlineExceeded:
            retry = math.ceil(batcher.drain_seconds())
            raise RequestError(503, f"the server is busy: the request waited {limits.decode_timeout:g} s "
                                    f"without being decoded; retry after {retry} s",
                               headers={"retry-after": str(retry)}) from None
        except CallerGone:
            raise RequestError(499, "the client closed the connection") from None

    @app.post("/v1/translate")
    async def translate(request: TranslateRequest, http: Request) -> dict:
        name = request.model or default_model
        if name not in models:
            raise RequestError(404, f"model: no model named {name!r}; this server has "
                                    f"{', '.join(repr(n) for n in models)}")
        options = check_translate(request, limits)
        if options.sampling is not None and models[name].exported:
            raise RequestError(422, f"sample: model {name!r} is an ONNX export, which decodes with greedy "
                                    "and beam search only")
        if options.attention and not models[name].has_attention:
            raise RequestError(422, f"attention: model {name!r} has no attention to show")
        texts = sentences_of(request)
        key = (name, options)
        if options.sampling is not None:
            key = (name, options, object())  # sampled requests decode alone: their seed repeats them
        results = await decode(key, texts, len(texts) * options.beam_size, http)
        if options.attention:
            return _alignment_response(name, results)
        response = {"model": name,
                    "translations": [hypotheses[0][0] for hypotheses in results],
                    "scores": [hypotheses[0][1] for hypotheses in results]}
        if request.n_best > 1:
            response["n_best"] = [[{"text": text, "score": score} for text, score in hypotheses[: request.n_best]]
                                  for hypotheses in results]
        return response

    @app.post("/v1/reply")
    async def reply(request: ReplyRequest, http: Request) -> dict:
        name = request.model or default_model
        if name not in models:
            raise RequestError(404, f"model: no model named {name!r}; this server has "
                                    f"{', '.join(repr(n) for n in models)}")
        options = check_reply(request, limits)
        if models[name].exported:  # greedy and beam only; the default n-gram blocking is left out
            blocking = "no_repeat_ngram" in request.model_fields_set and options.no_repeat_ngram
            if options.sampling is not None or blocking:
                field = "sample" if options.sampling is not None else "no_repeat_ngram"
                raise RequestError(422, f"{field}: model {name!r} is an ONNX export, which decodes with greedy "
                                        "and beam search only")
            options = options.replace(no_repeat_ngram=0)
        # The context exactly as prepare-dialogue built the model's training sources.
        context = context_source(request.turns, models[name].context_turns or CONTEXT_TURNS)
        key = (name, options) if options.sampling is None else (name, options, object())
        (best,) = await decode(key, [context], options.beam_size, http)
        return {"model": name, "reply": best[0][0], "score": best[0][1], "context": context}

    @app.get("/v1/models")
    async def list_models() -> dict:
        return {"default": default_model, "models": [m.describe() for m in models.values()],
                "limits": {**limits.__dict__, "max_queued_work": max_queued_work}}

    @app.get("/v1/health")
    async def health() -> dict:
        # Public even with an API key (for load balancers): nothing here names a file or a client.
        return {"status": "ok", "models": list(models), "uptime_seconds": round(time.time() - started, 1),
                "batching": batcher.batching, "max_batch": max_batch,
                "max_batch_delay_ms": max_delay * 1000, "batcher": batcher.stats.as_dict(),
                "api_key": api_key is not None, "docs": "/docs" if docs else None}

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


async def _client_gone(request: Request) -> None:
    """Returns once the client has disconnected (its body was read already, so the next message
    the server gets for this request is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        await asyncio.sleep(0.1)  # (no other message is expected; do not spin if one comes)


def _alignment_response(name: str, alignments: list) -> dict:
    return {"model": name,
            "translations": [a.text for a in alignments],
            "scores": [a.score for a in alignments],
            "attention": [{"source_tokens": list(a.source_tokens), "target_tokens": list(a.target_tokens),
                           "weights": [[round(float(w), 4) for w in row] for row in a.weights]}
                          for a in alignments]}


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _add_error_handlers(app: FastAPI, limits: Limits) -> None:
    @app.exception_handler(RequestError)
    async def request_error(request: Request, error: RequestError) -> JSONResponse:
        response = _error(error.status, error.message)
        response.headers.update(error.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        for problem in problems:
            if problem.get("type") == "json_invalid":
                ctx = problem.get("ctx", {})
                return _error(400, f"the body is not valid JSON ({ctx.get('error', 'parse error')})")
        details = [{"field": ".".join(str(p) for p in problem.get("loc", ())[1:]) or "body",
                    "problem": problem.get("msg", "invalid")} for problem in problems]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:3])
        return _error(422, summary, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 413:
            return _error(413, f"the request body is larger than {limits.max_body_bytes} bytes")
        response = _error(error.status_code, str(error.detail))
        response.headers.update(error.headers or {})
        return response


def needs_key(path: str) -> bool:
    """The routes an API key guards: all of `/v1/` except the health check."""
    return (path == "/v1" or path.startswith("/v1/")) and path != "/v1/health"


class ApiKey:
    """ASGI middleware: the `/v1/` routes (not `/v1/health`) need `Authorization: Bearer <key>`.

    Anything else is answered 401 with a JSON error before the app (or the body) is read. The
    given and the expected key are compared as SHA-256 digests with `hmac.compare_digest`: the
    time taken tells nothing of the key, not even its length.
    """

    def __init__(self, app, key: str):
        if not key:
            raise ValueError("an empty API key would let anyone in")
        self.app = app
        self.digest = hashlib.sha256(key.encode()).digest()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and needs_key(scope["path"]):
            given = dict(scope.get("headers", [])).get(b"authorization")
            if given is None:
                return await _send_json(send, 401, "this server needs an API key: send the header "
                                                   "'Authorization: Bearer <key>'", _CHALLENGE)
            scheme, _, token = given.strip().partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(
                    hashlib.sha256(token.strip()).digest(), self.digest):
                return await _send_json(send, 401, "wrong API key (send 'Authorization: Bearer <key>')",
                                        _CHALLENGE)
        await self.app(scope, receive, send)


_CHALLENGE = [(b"www-authenticate", b'Bearer realm="keras-seq2seq"')]


async def _send_json(send, status: int, message: str, headers: list | None = None) -> None:
    """A whole JSON error response, sent from middleware (before FastAPI's handlers exist)."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(StarletteHTTPException):
    def __init__(self):
        super().__init__(413)


class _BodyTooSlow(StarletteHTTPException):
    def __init__(self, seconds: float):
        # The rest of a late body may still come; closing is the only way to be rid of it.
        super().__init__(408, f"the request body did not arrive within {seconds:g} s",
                         headers={"connection": "close"})


class BodyLimits:
    """ASGI middleware: refuse bodies over `max_bytes` (413) or slower than `seconds` (408).

    A declared Content-Length is checked before the app runs; a chunked body is counted as it
    streams in, and the app's body reader gets a 413 `HTTPException` once it passes the limit.
    Each read of the body waits at most until `seconds` after the request head arrived, so a
    client that stalls mid-body gets 408 and loses its connection instead of holding it (the
    request head has its own deadline: `serving.deadlines`).
    """

    def __init__(self, app, max_bytes: int, seconds: float):
        self.app = app
        self.max_bytes = max_bytes
        self.seconds = seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send, _BodyTooLarge())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        received = 0
        body_done = False
        started = False

        async def limited_receive():
            nonlocal received, body_done
            if body_done:  # after the body only a disconnect can come, and may take any time
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), deadline - loop.time())
            except asyncio.TimeoutError:  # not yet the built-in TimeoutError on Python 3.10
                raise _BodyTooSlow(self.seconds) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except (_BodyTooLarge, _BodyTooSlow) as error:
            if started:
                raise
            await self._refuse(send, error)

    async def _refuse(self, send, error: StarletteHTTPException):
        message = (f"the request body is larger than {self.max_bytes} bytes"
                   if error.status_code == 413 else str(error.detail))
        await _send_json(send, error.status_code, message,
                         [(k.encode(), v.encode()) for k, v in (error.headers or {}).items()])
