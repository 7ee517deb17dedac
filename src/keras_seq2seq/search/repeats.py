"""N-gram repeat blocking: forbid a token that would complete an n-gram the hypothesis already has.

Dialogue models love loops ("i don't know . i don't know ."). With `no_repeat_ngram = n`, at every
step the last `n - 1` tokens of a hypothesis are compared with every earlier window of the same
length; wherever they match, the token that followed that window is banned now. The check is
`keras.ops` over the fixed-size output buffer, so it runs inside the compiled search loop.
"""

from __future__ import annotations

from keras import ops


def repeated_ngram_mask(output, step, n: int, vocab_size: int):
    """Which tokens would repeat an n-gram: `batch x vocab_size` booleans.

    Args:
        output: `batch x max_length` token ids; positions before `step` hold the hypothesis.
        step: how many tokens each hypothesis has (a scalar tensor inside the loop).
        n: the n-gram size (1 forbids any token already produced).
        vocab_size: the number of output tokens.
    """
    batch, max_length = ops.shape(output)[0], ops.shape(output)[1]
    starts = ops.expand_dims(ops.arange(max_length, dtype="int32"), 0)  # 1 x max_length

    def shifted(offset: int):
        """`output` moved left by `offset`: column j holds token j + offset (0 past the end)."""
        if offset == 0:
            return output
        tail = ops.zeros((batch, offset), dtype=output.dtype)
        return ops.concatenate([output[:, offset:], tail], axis=1)

    # An earlier n-gram starting at j is complete when j + n - 1 < step.
    match = ops.broadcast_to(starts + (n - 1) < step, (batch, max_length))
    for offset in range(n - 1):
        # The hypothesis' own last n - 1 tokens, one per row: positions step - n + 1 .. step - 1.
        current = ops.take(output, ops.maximum(step - (n - 1) + offset, 0), axis=1)  # batch
        match = ops.logical_and(match, ops.equal(shifted(offset), ops.expand_dims(current, 1)))
    banned = ops.cast(shifted(n - 1), "int32")  # batch x max_length: the token after each window
    rows = ops.broadcast_to(ops.expand_dims(ops.arange(batch, dtype="int32"), 1), (batch, max_length))
    indices = ops.reshape(ops.stack([rows, banned], axis=-1), (-1, 2))
    counts = ops.scatter_update(ops.zeros((batch, vocab_size), "float32"), indices,
                                ops.reshape(ops.cast(match, "float32"), (-1,)), reduction="add")
    return counts > 0


def block_repeats(logits, output, step, n: int, blocked_value: float = -1e9):
    """`logits` (`batch x vocab`) with every token that would repeat an n-gram set to `blocked_value`."""
    mask = repeated_ngram_mask(output, step, n, ops.shape(logits)[-1])
    return ops.where(mask, blocked_value, ops.cast(logits, "float32"))
