"""What a request may ask for, and the clear error it gets when it asks for too much.

Bad input is the client's mistake, so it gets a 4xx with a one-line JSON message that says what
was wrong and what is allowed, never a 500:

    408  the body did not arrive within `request_timeout` seconds of the request head
    401  a key is required (`SEQ2SEQ_API_KEY`) and the request has not the right one
    413  the body is larger than `max_body_bytes`
    400  the body is not JSON at all
    422  JSON of the wrong shape or type, too many sentences, a sentence too long, an option out of range
    404  a model name the server does not have
    503  the decoding queue is full, or the request waited `decode_timeout` seconds without being
         decoded; `Retry-After` says when to try again (this is backpressure, not a failure)

`TranslateRequest` checks types (pydantic, strict: `"5"` is not a beam size); `check_translate`
then checks the values against the server's `Limits` and returns the `SearchOptions` to decode with
(`search/options.py`, the one options object the command line and the Python API use too).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from keras_seq2seq.search.options import InvalidOption, Sampling, SearchOptions


@dataclass(frozen=True)
class Limits:
    """Per-request limits; the defaults keep one request to about one decode batch."""

    max_body_bytes: int = 64 * 1024   # request body, in bytes
    max_sentences: int = 64           # sentences in one request's "text" list
    max_chars: int = 1000             # characters in one sentence
    max_beam_size: int = 16           # beam_size (n_best is at most beam_size)
    max_no_repeat_ngram: int = 4      # /v1/reply's no_repeat_ngram: each size is its own compiled program
    request_timeout: float = 10.0     # seconds to send a request's head, then as long for its body
    decode_timeout: float = 30.0      # seconds a request may wait in the queue before it is decoded


class RequestError(Exception):
    """A request the server will not serve: an HTTP status and a message for the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


Number = StrictInt | StrictFloat


class TranslateRequest(BaseModel):
    """The body of `POST /v1/translate`."""

    model_config = ConfigDict(extra="forbid")

    text: StrictStr | list[StrictStr] = Field(
        description="one sentence, or a list of sentences translated independently",
        examples=["3rd of March, 2021"])
    model: StrictStr | None = Field(None, description="model name from /v1/models; default: the first")
    beam_size: StrictInt = Field(1, description="hypotheses kept per sentence; 1 is greedy search")
    n_best: StrictInt = Field(1, description="outputs returned per sentence, best first (at most beam_size)")
    length_penalty: Number = Field(0.0, description="GNMT length penalty alpha for beam search")
    sample: StrictBool = Field(False, description="draw tokens from the model's distribution instead of searching")
    temperature: Number = Field(1.0, description="sampling: below 1 sharpens, above 1 flattens")
    top_k: StrictInt = Field(0, description="sampling: draw from the k most likely tokens only (0: all)")
    top_p: Number = Field(1.0, description="sampling: draw from the smallest set holding this much probability")
    seed: StrictInt = Field(0, description="sampling: the same seed repeats the same samples")
    attention: StrictBool = Field(False, description="also return attention weights (models with attention)")


def sentences_of(request: TranslateRequest) -> list[str]:
    return [request.text] if isinstance(request.text, str) else list(request.text)


def check_translate(request: TranslateRequest, limits: Limits) -> SearchOptions:
    """Raise `RequestError(422, …)` for the first value outside what this server accepts."""
    texts = sentences_of(request)
    if not texts:
        raise RequestError(422, "text: give a sentence or a non-empty list of sentences")
    if len(texts) > limits.max_sentences:
        raise RequestError(422, f"text: {len(texts)} sentences; this server takes at most "
                                f"{limits.max_sentences} per request")
    for i, text in enumerate(texts):
        where = "text" if isinstance(request.text, str) else f"text[{i}]"
        if len(text) > limits.max_chars:
            raise RequestError(422, f"{where}: {len(text)} characters; at most {limits.max_chars} "
                                    f"per sentence")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as bad:  # JSON allows "\ud800"; no answer could hold it
            raise RequestError(422, f"{where}: holds a lone surrogate ({text[bad.start]!r} at character "
                                    f"{bad.start}), which is not text") from None
    if not 1 <= request.beam_size <= limits.max_beam_size:
        raise RequestError(422, f"beam_size: must be between 1 and {limits.max_beam_size}, "
                                f"got {request.beam_size}")
    if request.sample and request.beam_size != 1:
        raise RequestError(422, "sample: draws one output per sentence; leave beam_size at 1")
    if request.attention and request.n_best != 1:
        raise RequestError(422, "attention: maps come with the best output only; leave n_best at 1")
    try:
        sampling = Sampling(request.temperature, request.top_k, request.top_p) if request.sample else None
        return SearchOptions(beam_size=request.beam_size, n_best=request.n_best,
                             length_penalty=request.length_penalty, sampling=sampling,
                             seed=request.seed if request.sample else 0, attention=request.attention)
    except InvalidOption as error:
        raise RequestError(422, f"{error.field}: {error.problem}") from None


class ReplyRequest(BaseModel):
    """The body of `POST /v1/reply`: a conversation so far, for a dialogue model's next turn."""

    model_config = ConfigDict(extra="forbid")

    turns: list[StrictStr] = Field(description="the conversation so far, oldest turn first; the server keeps "
                                               "the last turns the model was trained with",
                                   examples=[["Hi! How are you?", "Fine, thanks. And you?", "Tired."]])
    model: StrictStr | None = Field(None, description="model name from /v1/models; default: the first")
    beam_size: StrictInt = Field(1, description="hypotheses kept; 1 is greedy search")
    length_penalty: Number = Field(0.0, description="GNMT length penalty alpha for beam search")
    no_repeat_ngram: StrictInt = Field(3, description="the reply never repeats one of its own n-grams (0: off; "
                                                        "an ONNX export: off, and refused if given)")
    sample: StrictBool = Field(False, description="draw tokens from the model's distribution instead of searching")
    temperature: Number = Field(1.0, description="sampling: below 1 sharpens, above 1 flattens")
    top_k: StrictInt = Field(0, description="sampling: draw from the k most likely tokens only (0: all)")
    top_p: Number = Field(1.0, description="sampling: draw from the smallest set holding this much probability")
    seed: StrictInt = Field(0, description="sampling: the same seed repeats the same reply")


def check_reply(request: ReplyRequest, limits: Limits) -> SearchOptions:
    """Like `check_translate`, for a conversation: `RequestError(422, …)` for the first value
    outside what this server accepts, else the `SearchOptions` to reply with."""
    turns = request.turns
    if not turns or not all(turn.strip() for turn in turns):
        raise RequestError(422, "turns: give the conversation so far, a non-empty list of non-empty turns")
    if len(turns) > limits.max_sentences:
        raise RequestError(422, f"turns: {len(turns)} turns; send at most {limits.max_sentences} (the model "
                                f"reads only the last few)")
    for i, turn in enumerate(turns):
        if len(turn) > limits.max_chars:
            raise RequestError(422, f"turns[{i}]: {len(turn)} characters; at most {limits.max_chars} per turn")
        try:
            turn.encode("utf-8")
        except UnicodeEncodeError as bad:  # as in check_translate: no answer could hold it
            raise RequestError(422, f"turns[{i}]: holds a lone surrogate ({turn[bad.start]!r} at character "
                                    f"{bad.start}), which is not text") from None
    if not 1 <= request.beam_size <= limits.max_beam_size:
        raise RequestError(422, f"beam_size: must be between 1 and {limits.max_beam_size}, got {request.beam_size}")
    if request.sample and request.beam_size != 1:
        raise RequestError(422, "sample: draws one reply; leave beam_size at 1")
    if not 0 <= request.no_repeat_ngram <= limits.max_no_repeat_ngram:
        # The n-gram size shapes the compiled search (it is unrolled while tracing), so, unlike the
        # other option values, each one costs a program: only a few small ones are served.
        raise RequestError(422, f"no_repeat_ngram: must be between 0 (off) and {limits.max_no_repeat_ngram}, "
                                f"got {request.no_repeat_ngram}")
    try:
        sampling = Sampling(request.temperature, request.top_k, request.top_p) if request.sample else None
        return SearchOptions(beam_size=request.beam_size, length_penalty=request.length_penalty, sampling=sampling,
                             seed=request.seed if request.sample else 0, no_repeat_ngram=request.no_repeat_ngram)
    except InvalidOption as error:
        raise RequestError(422, f"{error.field}: {error.problem}") from None
