"""A decoding loop that sheds finished sentences: the batch shrinks as sentences end.

A batch decodes until its longest sentence ends, so one long (or never-ending) output keeps all
its neighbours' rows computing padding. Here the loop runs in phases of fixed sizes (`rows`, then
a quarter of it; `phase_sizes`): as soon as no more sentences are still going than the next phase
holds, the live ones are gathered into it, and the phase's rows are written to full-size result
buffers. Each phase has a static shape, so the whole search stays one compiled program (with a
loop per phase), and sentences come back in their original order.

Nothing about a sentence's own computation changes, only which rows share a step with it.
"""

from __future__ import annotations

from typing import Callable

from keras import ops, tree

MIN_ROWS = 8  # the smallest phase worth a loop of its own


def phase_sizes(rows: int, min_rows: int = MIN_ROWS) -> list[int]:
    """The row counts of the phases: `rows`, then a quarter of it (rounded up) if at least `min_rows`.

    Two phases, because each is a loop of its own to compile: halving down to 8 rows (four
    phases) decoded no faster than these two on real test sentences, and compiled about twice as
    long (docs/performance.md).

    >>> phase_sizes(64), phase_sizes(32), phase_sizes(16)
    ([64, 16], [32, 8], [16])
    """
    quarter = -(-rows // 4)
    return [rows, quarter] if quarter >= min_rows and rows > min_rows else [rows]


def shrinking_while_loop(keep_going: Callable, advance: Callable, step, carried, constants,
                         finished: Callable, min_rows: int = MIN_ROWS):
    """`ops.while_loop` over per-sentence state whose batch shrinks as sentences finish.

    Args:
        keep_going: `(step, carried) -> scalar bool`, the loop's own limit (e.g. the length
            limit); the loop also stops once every sentence is finished.
        advance: `(step, carried, constants) -> carried`, one decoding step.
        step: the starting step (a scalar tensor).
        carried: nest of tensors whose first axis is the sentence; updated by `advance`.
        constants: nest of per-sentence tensors `advance` reads but does not change (the
            encoder's output); gathered along with `carried`.
        finished: `carried -> batch` booleans, sentences that need no more steps.
        min_rows: the smallest phase (`rows` itself turns shedding off).

    Returns `(step, carried)` with `carried` at full size, in the original sentence order.
    """
    rows = ops.shape(finished(carried))[0]
    results = carried
    ids = ops.arange(rows, dtype="int32")

    def body(step, carried, constants):
        return step + 1, advance(step, carried, constants), constants

    sizes = phase_sizes(rows, min_rows)
    for following in [*sizes[1:], 0]:  # the next phase's size (0: this is the last)

        def not_done(step, carried, constants, following=following):
            going = ops.sum(ops.cast(ops.logical_not(finished(carried)), "int32"))
            return ops.logical_and(keep_going(step, carried), going > following)

        step, carried, constants = ops.while_loop(not_done, body, (step, carried, constants))
        # Every sentence of this phase writes its state back; those still going write again later.
        positions = ops.expand_dims(ids, -1)
        results = tree.map_structure(lambda full, part: ops.scatter_update(full, positions, part),
                                     results, carried)
        if following:
            # The sentences still going first (in order), then finished ones to fill the phase.
            order = ops.argsort(ops.cast(finished(carried), "int32"))[:following]
            carried, constants = tree.map_structure(lambda x: ops.take(x, order, axis=0),
                                                    (carried, constants))
            ids = ops.take(ids, order, axis=0)
    return step, results
