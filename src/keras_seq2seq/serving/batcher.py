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

`combine=False` turns batching off: every request is decoded on its own, one after another (the
baseline `bench/serve_load.py` compares against).

    batcher = DynamicBatcher(lambda key, items: [s.upper() for s in items], max_batch=64)
    batcher.start()
    results = await batcher.submit("upper", ["a", "b"])   # ['A', 'B']
    batcher.close()                                      # answers everything queued, then stops
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable, Sequence

RunBatch = Callable[[Hashable, list], Sequence]
"""`run_batch(key, items)` -> one result per item, in order; called in the worker thread only."""

_STOP = object()  # queued by close(): everything before it is answered, nothing after it arrives


class BatcherClosed(Exception):
    """The server is shutting down and takes no new work."""


@dataclass
class _Job:
    key: Hashable
    items: list
    future: concurrent.futures.Future
    arrived: float = field(default_factory=time.monotonic)


@dataclass
class BatcherStats:
    """Counts of real work done, for /v1/health and the tests (nothing estimated)."""

    requests: int = 0       # jobs answered (with results or an error)
    items: int = 0          # sentences in those jobs
    decode_calls: int = 0   # run_batch calls: one per key per collected batch
    largest_batch: int = 0  # most items passed to one run_batch call

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class DynamicBatcher:
    """Collects jobs from many threads or coroutines and runs them in batches in one thread."""

    def __init__(self, run_batch: RunBatch, max_batch: int = 64, max_delay: float = 0.005,
                 combine: bool = True):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_delay < 0:
            raise ValueError(f"max_delay must be >= 0 seconds, got {max_delay}")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.combine = combine
        self.stats = BatcherStats()
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()  # makes "check closed, then enqueue" atomic against close()
        self._closed = False
        self._last_batch_requests = 0  # requests in the previous batch: >1 means clients come together
        self._thread = threading.Thread(target=self._work, name="seq2seq-decoder", daemon=True)

    @property
    def batching(self) -> bool:
        return self.combine and self.max_batch > 1

    def start(self) -> None:
        self._thread.start()

    def submit_nowait(self, key: Hashable, items: Sequence) -> concurrent.futures.Future:
        """Queue `items` under `key`; the future's result is their results, in order."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise BatcherClosed("the server is shutting down")
            self._queue.put(_Job(key, list(items), future))
        return future

    async def submit(self, key: Hashable, items: Sequence) -> list:
        """Await the results for `items` (cancelling the await drops them if not yet started)."""
        return await asyncio.wrap_future(self.submit_nowait(key, items))

    def close(self, timeout: float | None = None) -> None:
        """Stop taking work, answer every job already queued, then end the worker thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ------------------------------------------------------------------ worker thread
    def _work(self) -> None:
        held: _Job | None = None  # a job that did not fit into the previous batch
        while True:
            idle = held is None and self._queue.empty()
            first = held if held is not None else self._queue.get()
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
                    job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
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
        groups: dict[Hashable, list[_Job]] = {}
        for job in live:
            groups.setdefault(job.key, []).append(job)
        for key, group in groups.items():
            items = [item for job in group for item in job.items]
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
            self.stats.decode_calls += 1
            self.stats.largest_batch = max(self.stats.largest_batch, len(items))
            self.stats.requests += len(group)
            self.stats.items += len(items)
