"""Dynamic batching: sentences from requests that arrive together are decoded together.

One decode of 64 sentences costs little more than one decode of a single sentence: the compiled
loop runs the same number of steps, on wider matrices. So instead of decoding each request as it
comes, the batcher's worker thread takes the first waiting request, keeps collecting for up to
`max_delay` seconds after it arrived (or until `max_batch` sentences are in hand), then makes ONE
call per (model, search options) key on the combined sentences and hands each request its slice.
With `max_delay=0` it waits for nobody but still takes every request that queued up while the
previous batch was decoding: under load that alone makes large batches.

The wait is skipped when nothing suggests anyone will join: the worker was idle (the queue was
empty when the request came) and the previous batch held a single request. So a lone client, one
request at a time, never pays the delay, while concurrent clients, whose requests came together
last time, still wait for each other. The first request of a burst is decoded alone; the rest
queue up meanwhile and make the next batch, after which waiting resumes.

All decoding happens in that single worker thread: Keras models are not made to be called from
several threads at once, and one thread keeps the CPU cores for the matrix products. The asyncio
side of the server only awaits futures (`await batcher.submit(key, items)`), so the event loop
stays free to accept and parse requests while a batch decodes.

The queue is ordered and bounded in work, not in requests. A job's work is what it costs to
decode (the server counts sentences x beam size), and the worker takes the smallest job first
(in arrival order among equals), so a one-sentence greedy request never waits behind a queue of
64-sentence beam-16 ones. A job that would take the queued work past `max_queued_work` is refused
at once with `BatcherBusy`, which says how long the queue should take to drain (the server
answers 503 with that as `Retry-After`); a large job (more work than `max_batch`, one batch of
greedy sentences) may only fill half the queue, so that small requests still find room when large
ones pile up. A job that finds the queue empty is always taken, whatever its size, and a large
job that smaller ones keep overtaking waits at most its `timeout`. Queued work leaves the count
when the worker starts it,
or at once when its caller gives up: `submit` drops a job whose `gone` awaitable finished (the
client disconnected) or that has not started within `timeout` seconds (`DeadlineExceeded`),
and the worker never decodes it. A job already decoding runs to its end: a compiled loop cannot
be stopped halfway, and it takes one batch's time at most.

`combine=False` turns batching off: every request is decoded on its own, one after another (the
baseline `bench/serve_load.py` compares against).

    batcher = DynamicBatcher(lambda key, items: [s.upper() for s in items], max_batch=64)
    batcher.start()
    results = await batcher.submit("upper", ["a", "b"])   # ['A', 'B']
    batcher.close()                                      # answers everything queued, then stops
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import itertools
import math
import queue
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Hashable, Sequence

RunBatch = Callable[[Hashable, list], Sequence]
"""`run_batch(key, items)` -> one result per item, in order; called in the worker thread only."""

_STOP = object()  # queued by close(): everything before it is answered, nothing after it arrives


class BatcherClosed(Exception):
    """The server is shutting down and takes no new work."""


class BatcherBusy(Exception):
    """The queue holds as much work as it may; `retry_after` is seconds until it should have room."""

    def __init__(self, retry_after: float):
        super().__init__(f"the server is busy; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


class DeadlineExceeded(Exception):
    """A job did not start within its `timeout`; it was dropped without being decoded."""


class CallerGone(Exception):
    """The caller gave up (its client disconnected) before the job started; it was dropped."""


@dataclass(eq=False)
class _Job:
    key: Hashable
    items: list
    future: concurrent.futures.Future
    work: int = 1
    arrived: float = field(default_factory=time.monotonic)
    queued: bool = True  # its work still counts against `max_queued_work`


@dataclass
class BatcherStats:
    """Counts of real work done, for /v1/health and the tests (nothing estimated)."""

    requests: int = 0       # jobs answered (with results or an error)
    items: int = 0          # sentences in those jobs
    decode_calls: int = 0   # run_batch calls: one per key per collected batch
    largest_batch: int = 0  # most items passed to one run_batch call
    refused: int = 0        # jobs refused because the queue was full (BatcherBusy)
    dropped: int = 0        # queued jobs dropped unstarted: caller gone, or past their timeout
    queued_work: int = 0    # work waiting in the queue now

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class DynamicBatcher:
    """Collects jobs from many threads or coroutines and runs them in batches in one thread."""

    def __init__(self, run_batch: RunBatch, max_batch: int = 64, max_delay: float = 0.005,
                 combine: bool = True, max_queued_work: int | None = None):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_delay < 0:
            raise ValueError(f"max_delay must be >= 0 seconds, got {max_delay}")
        if max_queued_work is not None and max_queued_work < 1:
            raise ValueError(f"max_queued_work must be at least 1 (None: no bound), got {max_queued_work}")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.combine = combine
        self.max_queued_work = max_queued_work
        self.stats = BatcherStats()
        self._rates: collections.deque = collections.deque(maxlen=64)  # seconds per unit of work, recent decodes
        # (work, arrival number, job): the smallest job first, then the earliest.
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._arrivals = itertools.count()
        self._lock = threading.Lock()  # makes "check closed, then enqueue" atomic against close()
        self._closed = False
        self._last_batch_requests = 0  # requests in the previous batch: >1 means clients come together
        self._thread = threading.Thread(target=self._work, name="seq2seq-decoder", daemon=True)

    @property
    def batching(self) -> bool:
        return self.combine and self.max_batch > 1

    def start(self) -> None:
        self._thread.start()

    def submit_nowait(self, key: Hashable, items: Sequence, work: int | None = None) -> concurrent.futures.Future:
        """Queue `items` under `key`; the future's result is their results, in order.

        `work` is what the job costs (default: one per item); `BatcherBusy` if the queue cannot
        take it. Cancelling the future before the job starts drops it.
        """
        future: concurrent.futures.Future = concurrent.futures.Future()
        job = _Job(key, list(items), future, len(items) if work is None else work)
        with self._lock:
            if self._closed:
                raise BatcherClosed("the server is shutting down")
            queued = self.stats.queued_work
            if self.max_queued_work is not None and queued:
                # Large jobs leave half the queue to small ones.
                room = self.max_queued_work if job.work <= self.max_batch else self.max_queued_work // 2
                if queued + job.work > room:
                    self.stats.refused += 1
                    raise BatcherBusy(self.drain_seconds())
            self.stats.queued_work += job.work
            self._queue.put((job.work, next(self._arrivals), job))
        future.add_done_callback(lambda f: self._unqueue(job, dropped=True) if f.cancelled() else None)
        return future

    async def submit(self, key: Hashable, items: Sequence, work: int | None = None,
                     timeout: float | None = None, gone: Awaitable | None = None) -> list:
        """Await the results for `items`.

        Args:
            work: what the job costs (see `submit_nowait`).
            timeout: seconds the job may wait to start; then it is dropped (`DeadlineExceeded`).
            gone: an awaitable that finishes when nobody wants the results any more (the client
                disconnected); the job is then dropped if not started, and `CallerGone` raised.

        Cancelling the await also drops the job if it has not started.
        """
        try:
            future = self.submit_nowait(key, items, work)
        except BaseException:
            if asyncio.iscoroutine(gone):
                gone.close()  # never to be awaited
            raise
        waiting = asyncio.wrap_future(future)
        watcher = None if gone is None else asyncio.ensure_future(gone)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            while True:
                remaining = None if deadline is None else max(0.0, deadline - loop.time())
                done, _ = await asyncio.wait({waiting} | ({watcher} if watcher else set()), timeout=remaining,
                                             return_when=asyncio.FIRST_COMPLETED)
                if waiting in done:
                    return waiting.result()
                if watcher in done:  # the results would go nowhere: decoding them is wasted
                    raise CallerGone()
                if future.cancel():  # timed out before it started
                    raise DeadlineExceeded(f"the request did not start decoding within {timeout:g} s")
                deadline = None  # it is decoding: one batch, then done
        finally:
            if watcher is not None:
                watcher.cancel()
            if not waiting.done():
                future.cancel()  # drops the job if it has not started (a running one finishes)
                waiting.cancel()

    def drain_seconds(self) -> float:
        """About how long the work queued now takes to decode (at least a second): the median
        time per unit of work of recent decodes (a median, so a decode that compiled a new
        program does not count)."""
        rate = statistics.median(self._rates) if self._rates else 0.0
        return max(1.0, self.stats.queued_work * rate)

    def _unqueue(self, job: _Job, dropped: bool = False) -> None:
        """The job leaves the queue's count: started, or dropped before it started."""
        with self._lock:
            if job.queued:
                job.queued = False
                self.stats.queued_work -= job.work
                self.stats.dropped += dropped

    def close(self, timeout: float | None = None) -> None:
        """Stop taking work, answer every job already queued, then end the worker thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put((math.inf, next(self._arrivals), _STOP))  # after every job queued
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ------------------------------------------------------------------ worker thread
    def _work(self) -> None:
        held: _Job | None = None  # a job that did not fit into the previous batch
        while True:
            idle = held is None and self._queue.empty()
            first = held if held is not None else self._queue.get()[-1]
            held = None
            if first is _STOP:
                return
            jobs, stop = [first], False
            size = len(first.items)
            # A request that found the worker idle, after a batch of one, has nobody to wait for.
            lone = idle and self._last_batch_requests <= 1
            deadline = first.arrived + (0.0 if lone else self.max_delay)
            while self.batching and size < self.max_batch:
                try:
                    remaining = deadline - time.monotonic()
                    job = (self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())[-1]
                except queue.Empty:
                    break
                if job is _STOP:
                    stop = True
                    break
                if size + len(job.items) > self.max_batch:
                    held = job
                    break
                jobs.append(job)
                size += len(job.items)
            self._last_batch_requests = len(jobs)
            self._run(jobs)
            if stop:
                return

    def _run(self, jobs: list[_Job]) -> None:
        # Jobs whose caller went away before we started are skipped, not decoded.
        live = [job for job in jobs if job.future.set_running_or_notify_cancel()]
        for job in live:
            self._unqueue(job)
        groups: dict[Hashable, list[_Job]] = {}
        for job in live:
            groups.setdefault(job.key, []).append(job)
        for key, group in groups.items():
            items = [item for job in group for item in job.items]
            began = time.monotonic()
            try:
                results = list(self.run_batch(key, items))
                if len(results) != len(items):
                    raise RuntimeError(f"run_batch returned {len(results)} results for {len(items)} items")
            except BaseException as error:  # every waiting request must hear back
                for job in group:
                    job.future.set_exception(error)
            else:
                start = 0
                for job in group:
                    job.future.set_result(results[start : start + len(job.items)])
                    start += len(job.items)
                self._rates.append((time.monotonic() - began) / max(1, sum(job.work for job in group)))
            self.stats.decode_calls += 1
            self.stats.largest_batch = max(self.stats.largest_batch, len(items))
            self.stats.requests += len(group)
            self.stats.items += len(items)
