"""The best token, or the best few, over a vocabulary axis: written to run fast on CPUs.

XLA's CPU argmax and top-k reduce (value, index) pairs, which do not vectorise: over the
logits of a beam-5 step (320 rows x 9,921 words) `ops.argmax` took about ten times as long as
`ops.max` (docs/performance.md). Searching first for the maximum and then for
the smallest index holding it is two plain reductions and gives the same answer, ties included.
Beam search ranks `k` words per hypothesis before it ranks hypotheses, so that top-k never runs
over a `k x vocab` row, and finds each hypothesis's `k` words among its best blocks of the
vocabulary (`top_k_last`), not over all of it.
"""

from __future__ import annotations

from keras import ops

from keras_seq2seq.text.vocabulary import PAD_ID


def argmax_last(x):
    """Index of the largest value along the last axis; the first one among ties (as `ops.argmax`)."""
    size = ops.shape(x)[-1]
    top = ops.max(x, axis=-1, keepdims=True)
    positions = ops.arange(size, dtype="int32")
    first = ops.min(ops.where(x == top, positions, size), axis=-1)
    # A row holding NaN has no position equal to its maximum; answer the last index, not past it.
    return ops.minimum(first, size - 1)


def top_k_last(x, k: int, block: int = 128):
    """`ops.top_k(x, k)` over the last axis of a 2-D `x`, for small `k` and a long axis.

    The axis is cut into blocks; only the `k` blocks with the largest maxima can hold the `k`
    largest values, so top-k runs over `k` blocks' values instead of the whole row (one plain max
    over everything, then two small top-ks). Same values and indices as `ops.top_k` for distinct
    values (and for ties too, except which of equal values comes first).

    A vocabulary is seldom a multiple of `block`: the last, shorter block is reduced on its own
    and the candidates are gathered from `x` itself. Padding `x` to whole blocks instead copies
    it at every step, which took longer than all the rest of the pick (docs/performance.md).
    """
    rows, size = ops.shape(x)[0], ops.shape(x)[-1]
    blocks = -(-size // block)
    if blocks <= 2 * k:  # too few blocks to save anything
        return ops.top_k(x, k)
    whole = (size // block) * block
    block_max = ops.max(ops.reshape(x[:, :whole], (rows, whole // block, block)), axis=-1)
    if whole < size:
        block_max = ops.concatenate([block_max, ops.max(x[:, whole:], axis=-1, keepdims=True)], axis=1)
    _, best_blocks = ops.top_k(block_max, k)  # rows x k
    index = ops.expand_dims(ops.cast(best_blocks, "int32") * block, -1) + ops.arange(block, dtype="int32")
    index = ops.reshape(index, (rows, k * block))  # the candidates' positions in `x`
    inside = index < size  # the last block's positions past the end are no candidates
    candidates = ops.where(inside, ops.take_along_axis(x, ops.minimum(index, size - 1), axis=1), float("-inf"))
    values, position = ops.top_k(candidates, k)
    return values, ops.take_along_axis(index, ops.cast(position, "int32"), axis=1)


def best_extensions(log_probs_source, scores, finished, beam_size: int, blocked=None, divisor=None):
    """The `beam_size` best one-token extensions of each sentence's hypotheses.

    Args:
        log_probs_source: logits, `batch*k x vocab` (normalised here; only the kept ones are).
        scores: summed log-probabilities so far, `batch x k`.
        finished: `batch x k` booleans; a finished hypothesis extends only with padding, free.
        beam_size: `k`.
        blocked: optional `batch*k x vocab` booleans of tokens that may not be chosen.
        divisor: optional `batch x k` length penalties: each hypothesis's extensions are then
            ranked by their score divided by it (the extensions' scores stay the raw sums).

    Returns `(new scores batch x k, parent batch x k, token batch x k)`, best first. Each
    hypothesis offers only its own `k` best tokens: the `k` best extensions overall are always
    among them, and ranking `k x k` candidates instead of `k x vocab` is most of the saving.
    """
    k = beam_size
    logits = ops.cast(log_probs_source, "float32")
    vocab = ops.shape(logits)[-1]
    offered = min(k, vocab)
    log_normaliser = ops.logsumexp(logits, axis=-1, keepdims=True)  # batch*k x 1
    if blocked is not None:
        logits = ops.where(blocked, -1e9, logits)
    top_logits, top_tokens = top_k_last(logits, offered)  # batch*k x offered
    top_log_probs = top_logits - log_normaliser
    done = ops.reshape(finished, (-1, 1))
    only_first = ops.expand_dims(ops.arange(offered) == 0, 0)  # 1 x offered
    top_log_probs = ops.where(done, ops.where(only_first, 0.0, -1e9), top_log_probs)
    top_tokens = ops.where(done, PAD_ID, ops.cast(top_tokens, "int32"))
    batch = ops.shape(scores)[0]
    candidates = ops.reshape(ops.expand_dims(scores, -1) + ops.reshape(top_log_probs, (batch, k, offered)),
                             (batch, k * offered))
    if divisor is None:
        new_scores, picked = ops.top_k(candidates, k)
    else:
        per_candidate = ops.reshape(ops.broadcast_to(ops.expand_dims(divisor, -1), (batch, k, offered)),
                                    (batch, k * offered))
        _, picked = ops.top_k(candidates / per_candidate, k)
        new_scores = ops.take_along_axis(candidates, picked, axis=1)
    picked = ops.cast(picked, "int32")
    parent = picked // offered
    tokens = ops.take_along_axis(ops.reshape(top_tokens, (batch, k * offered)), picked, axis=1)
    return new_scores, parent, tokens
