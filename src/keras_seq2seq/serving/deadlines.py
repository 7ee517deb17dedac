"""Deadlines for clients that connect and then stall, so they cannot hold connections forever.

uvicorn's h11 protocol times out an idle keep-alive connection (`timeout_keep_alive`, between
requests), but nothing else: a client that opens a connection and sends nothing, or sends a
request head one byte every few seconds, keeps its socket (and a file descriptor) as long as it
likes, and a few thousand of them exhaust the server. Two deadlines close that gap:

    head  `HeadDeadlineProtocol`: the request line and headers must arrive within `seconds` of
          the connection opening (or of the previous response on it), else the connection is
          closed. No response is possible: without a complete head there is no request to answer.
    body  `serving.app.BodyLimits`: the body must arrive within `seconds` of the head, else the
          client gets 408 and the connection is closed.

A slow client still gets its answer if it finishes within the deadlines; a stalled one costs the
server one socket for at most `seconds` and never delays anyone else's request (the event loop
only waits on it, it never blocks on it).

    uvicorn.run(app, http=head_deadline_protocol(10.0), timeout_keep_alive=5)
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeadDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request head does not arrive in time."""

    head_timeout: float = 10.0  # seconds; set per server by `head_deadline_protocol`

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_timer()  # the next request on this keep-alive connection has the same time

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        # uvicorn starts a new request-response cycle when a complete head has been parsed: if
        # the cycle is still the one we started waiting in, no new head came.
        waiting_in = self.cycle
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_expired, waiting_in)

    def _head_expired(self, waiting_in) -> None:
        self._head_timer = None
        if self.cycle is waiting_in and not self.transport.is_closing():
            self.transport.close()


def head_deadline_protocol(seconds: float) -> type[HeadDeadlineProtocol]:
    """The protocol class to pass as `uvicorn.run(..., http=...)` for a head deadline of `seconds`."""
    if not seconds > 0:
        raise ValueError(f"the request head deadline must be > 0 seconds, got {seconds}")
    return type("HeadDeadlineProtocol", (HeadDeadlineProtocol,), {"head_timeout": float(seconds)})
