"""The dynamic batcher on its own, with a fake decoder: who gets decoded with whom, and when."""

import asyncio
import concurrent.futures
import threading
import time

import pytest

from keras_seq2seq.serving.batcher import BatcherBusy, BatcherClosed, CallerGone, DeadlineExceeded, DynamicBatcher


class Recorder:
    """A fake `run_batch` that records each call and can hold the worker until released."""

    def __init__(self, hold: bool = False):
        self.calls: list[tuple] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, key, items):
        self.entered.set()
        self.release.wait(10)
        self.calls.append((key, list(items)))
        if key == "boom":
            raise RuntimeError("decoder failed")
        return [f"{key}:{item}" for item in items]


def started(run, **kwargs) -> DynamicBatcher:
    batcher = DynamicBatcher(run, **kwargs)
    batcher.start()
    return batcher


def test_jobs_queued_while_decoding_are_combined_and_each_gets_its_own_slice():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, max_delay=0.05)
    first = batcher.submit_nowait("k", ["a"])
    assert run.entered.wait(5)  # the worker is busy with the first job
    later = [batcher.submit_nowait("k", [f"{i}x", f"{i}y"]) for i in range(5)]
    run.release.set()
    assert first.result(5) == ["k:a"]
    assert [f.result(5) for f in later] == [[f"k:{i}x", f"k:{i}y"] for i in range(5)]
    assert [len(items) for _, items in run.calls] == [1, 10]  # 6 requests, 2 decode calls
    assert batcher.stats.as_dict() == {"requests": 6, "items": 11, "decode_calls": 2, "largest_batch": 10,
                                       "refused": 0, "dropped": 0, "queued_work": 0}
    batcher.close()


def test_different_keys_are_decoded_in_separate_calls():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, max_delay=0.05)
    blocker = batcher.submit_nowait("x", ["0"])
    assert run.entered.wait(5)
    a1, b1, a2 = (batcher.submit_nowait(k, [v]) for k, v in (("a", "1"), ("b", "2"), ("a", "3")))
    run.release.set()
    assert (a1.result(5), b1.result(5), a2.result(5), blocker.result(5)) == (["a:1"], ["b:2"], ["a:3"], ["x:0"])
    assert run.calls[1:] == [("a", ["1", "3"]), ("b", ["2"])]
    batcher.close()


def test_a_full_batch_is_not_overfilled_and_the_rest_waits_for_the_next():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=4, max_delay=0.05)
    batcher.submit_nowait("k", ["0"])
    assert run.entered.wait(5)
    futures = [batcher.submit_nowait("k", [str(i)] * 3) for i in range(3)]
    run.release.set()
    for future in futures:
        future.result(5)
    assert [len(items) for _, items in run.calls] == [1, 3, 3, 3]
    batcher.close()


def test_no_batching_decodes_every_request_alone():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, max_delay=0.05, combine=False)
    assert not batcher.batching
    futures = [batcher.submit_nowait("k", [str(i)]) for i in range(4)]
    run.release.set()
    assert [f.result(5) for f in futures] == [["k:0"], ["k:1"], ["k:2"], ["k:3"]]
    assert batcher.stats.decode_calls == 4
    batcher.close()


def test_without_a_delay_whatever_queued_during_a_decode_is_still_combined():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, max_delay=0)
    assert batcher.batching
    first = batcher.submit_nowait("k", ["0"])
    assert run.entered.wait(5)
    queued = [batcher.submit_nowait("k", [str(i)]) for i in range(1, 4)]
    run.release.set()
    assert [f.result(5) for f in [first, *queued]] == [["k:0"], ["k:1"], ["k:2"], ["k:3"]]
    assert [items for _, items in run.calls] == [["0"], ["1", "2", "3"]]
    batcher.close()


def test_a_lone_request_waits_at_most_about_the_delay():
    batcher = started(Recorder(), max_batch=64, max_delay=0.02)
    begun = time.monotonic()
    assert batcher.submit_nowait("k", ["a"]).result(5) == ["k:a"]
    assert time.monotonic() - begun < 1.0
    batcher.close()


def test_a_failing_decode_fails_its_requests_only_and_the_worker_goes_on():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, max_delay=0.05)
    batcher.submit_nowait("k", ["0"])
    assert run.entered.wait(5)
    bad, good = batcher.submit_nowait("boom", ["1"]), batcher.submit_nowait("k", ["2"])
    run.release.set()
    with pytest.raises(RuntimeError, match="decoder failed"):
        bad.result(5)
    assert good.result(5) == ["k:2"]
    assert batcher.submit_nowait("k", ["3"]).result(5) == ["k:3"]
    batcher.close()


def test_close_answers_everything_queued_then_refuses_new_work():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=2, max_delay=0.01)
    futures = [batcher.submit_nowait("k", [str(i)]) for i in range(7)]
    assert run.entered.wait(5)
    closer = threading.Thread(target=batcher.close)
    closer.start()
    with pytest.raises(BatcherClosed):
        for _ in range(100):  # close() marks the batcher closed at once, before it drains
            batcher.submit_nowait("k", ["late"])
            time.sleep(0.01)
    run.release.set()
    closer.join(10)
    assert not closer.is_alive()
    assert [f.result(0) for f in futures] == [[f"k:{i}"] for i in range(7)]


def test_a_request_cancelled_before_its_turn_is_not_decoded():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, combine=False)
    batcher.submit_nowait("k", ["first"])
    assert run.entered.wait(5)
    dropped = batcher.submit_nowait("k", ["dropped"])
    assert dropped.cancel()
    kept = batcher.submit_nowait("k", ["kept"])
    run.release.set()
    assert kept.result(5) == ["k:kept"]
    with pytest.raises(concurrent.futures.CancelledError):
        dropped.result(0)
    assert [items for _, items in run.calls] == [["first"], ["kept"]]
    batcher.close()


def test_a_lone_client_does_not_pay_the_delay():
    batcher = started(Recorder(), max_batch=64, max_delay=2.0)
    for i in range(3):  # one request at a time, each alone in its batch
        begun = time.monotonic()
        assert batcher.submit_nowait("k", [str(i)]).result(5) == [f"k:{i}"]
        assert time.monotonic() - begun < 1.0  # far below the 2 s delay
    batcher.close()


def test_after_a_batch_of_several_requests_an_idle_worker_waits_for_company():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, max_delay=0.3)
    first = batcher.submit_nowait("k", ["0"])
    assert run.entered.wait(5)
    together = [batcher.submit_nowait("k", [str(i)]) for i in (1, 2)]  # queued during a decode
    run.release.set()
    assert [f.result(5) for f in [first, *together]] == [["k:0"], ["k:1"], ["k:2"]]
    # The worker is idle now and the last batch held two requests: the next one waits for others.
    early = batcher.submit_nowait("k", ["3"])
    time.sleep(0.05)
    late = batcher.submit_nowait("k", ["4"])
    assert (early.result(5), late.result(5)) == (["k:3"], ["k:4"])
    assert [items for _, items in run.calls] == [["0"], ["1", "2"], ["3", "4"]]
    batcher.close()


# ------------------------------------------------------------------ backpressure


def test_the_queue_is_bounded_in_work_and_a_full_one_says_when_to_retry():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=8, max_queued_work=100)
    batcher.submit_nowait("k", ["running"], work=1)
    assert run.entered.wait(5)  # decoding: no longer queued
    small = [batcher.submit_nowait("k", [f"s{i}"], work=8) for i in range(5)]  # 40 queued
    with pytest.raises(BatcherBusy) as busy:
        batcher.submit_nowait("k", ["large"], work=20)  # large jobs may fill half the queue only
    assert busy.value.retry_after >= 1
    assert batcher.stats.refused == 1 and batcher.stats.queued_work == 40
    # Small ones fill the rest.
    small += [batcher.submit_nowait("k", [f"t{i}"], work=8) for i in range(7)]  # 96 queued
    with pytest.raises(BatcherBusy):
        batcher.submit_nowait("k", ["one more"], work=8)
    assert batcher.stats.refused == 2 and batcher.stats.queued_work == 96
    run.release.set()
    assert all(f.result(5) for f in small)
    assert batcher.stats.queued_work == 0
    batcher.close()


def test_a_job_alone_is_taken_whatever_its_size():
    batcher = started(Recorder(), max_batch=64, max_queued_work=10)
    assert batcher.submit_nowait("k", ["x"], work=1000).result(5) == ["k:x"]
    batcher.close()


def test_smaller_jobs_go_first():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=2, max_delay=0)
    batcher.submit_nowait("k", ["first"])
    assert run.entered.wait(5)
    large = batcher.submit_nowait("k", ["large", "l2"], work=32)
    small = batcher.submit_nowait("k", ["small"], work=1)
    run.release.set()
    large.result(5), small.result(5)
    assert [items for _, items in run.calls] == [["first"], ["small"], ["large", "l2"]]
    batcher.close()


def test_a_cancelled_job_leaves_the_queue_count_at_once():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, max_queued_work=50)
    batcher.submit_nowait("k", ["running"])
    assert run.entered.wait(5)
    queued = batcher.submit_nowait("k", ["gone"], work=40)
    with pytest.raises(BatcherBusy):
        batcher.submit_nowait("k", ["x"], work=40)  # 80 > 50
    assert queued.cancel()
    assert batcher.stats.queued_work == 0 and batcher.stats.dropped == 1
    taken = batcher.submit_nowait("k", ["x"], work=40)  # there is room again
    run.release.set()
    assert taken.result(5) == ["k:x"]
    assert ["gone"] not in [items for _, items in run.calls]
    batcher.close()


def test_a_job_that_does_not_start_in_time_is_dropped_undecoded():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, combine=False)
    batcher.submit_nowait("k", ["running"])
    assert run.entered.wait(5)

    async def late():
        return await batcher.submit("k", ["late"], timeout=0.1)

    begun = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        asyncio.run(late())
    assert time.monotonic() - begun < 2
    run.release.set()
    assert batcher.submit_nowait("k", ["next"]).result(5) == ["k:next"]
    assert [items for _, items in run.calls] == [["running"], ["next"]]
    assert batcher.stats.dropped == 1
    batcher.close()


def test_a_job_whose_caller_went_away_is_dropped_undecoded():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, combine=False)
    batcher.submit_nowait("k", ["running"])
    assert run.entered.wait(5)

    async def abandoned():
        return await batcher.submit("k", ["abandoned"], gone=asyncio.sleep(0.1))

    with pytest.raises(CallerGone):
        asyncio.run(abandoned())
    assert batcher.stats.dropped == 1 and batcher.stats.queued_work == 0
    run.release.set()
    assert batcher.submit_nowait("k", ["next"]).result(5) == ["k:next"]
    assert [items for _, items in run.calls] == [["running"], ["next"]]
    batcher.close()


def test_a_job_already_decoding_when_its_deadline_passes_is_answered():
    run = Recorder(hold=True)
    batcher = started(run, max_batch=64, combine=False)

    async def slow():
        return await batcher.submit("k", ["slow"], timeout=0.1)

    threading.Timer(0.5, run.release.set).start()  # decoding takes longer than the deadline
    assert asyncio.run(slow()) == ["k:slow"]
    batcher.close()
