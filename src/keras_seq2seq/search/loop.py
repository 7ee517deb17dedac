"""The compiled decoding loop shared by every search policy.

One loop advances all sentences of a batch together. A sentence that has produced `<eos>` is
marked finished and from then on emits padding; the loop ends when every sentence is finished or
the length limit is reached, so a batch of short sentences stops early, and as sentences finish
the batch sheds them (`compaction.py`). Everything is `keras.ops`, so under JAX the whole loop
compiles into one XLA program.
"""

from __future__ import annotations

from typing import Callable

from keras import ops

from keras_seq2seq.search.compaction import MIN_ROWS, shrinking_while_loop
from keras_seq2seq.search.repeats import block_repeats
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID, PAD_ID


def decode_loop(step_fn: Callable, states, batch_size, max_length: int, choose: Callable,
                finished=None, source_length=None, no_repeat_ngram: int = 0, shortlist=None,
                constants=(), min_rows: int = MIN_ROWS):
    """Run `step_fn` until every sentence has ended.

    Returns `(ids, scores)`: `batch x max_length` token ids (0 after `<eos>`) and each sentence's
    summed log-probability, `batch`. With `source_length`, returns `(ids, scores, attention)`:
    the attention weights of every output step, `batch x max_length x source_length` (zero rows
    where a sentence emitted padding).

    Args:
        step_fn: `(token_ids batch, states, constants) -> (logits batch x vocab, states)`, or
            with `source_length`, `-> (logits, states, weights batch x source_length)`.
        states: the decoder's initial states (any nest of `batch x ...` tensors).
        batch_size: number of sentences.
        max_length: most tokens produced per sentence, `<eos>` included.
        choose: the policy, `(logits batch x vocab, step, constants) -> token_ids batch`.
        finished: optional `batch` booleans for rows that need no output (empty sources, the
            filler rows of a short last batch); they emit padding and never hold the loop up.
        source_length: the padded source length, to collect attention weights (the extra loop
            variable exists only then, so plain decoding costs nothing more).
        no_repeat_ngram: with n > 0, `choose` never sees a token that would repeat an n-gram of
            the sentence's output so far (see `repeats.py`); scores stay the model's own.
        shortlist: the target ids that `step_fn`'s logits stand for (`size`, see
            `shortlist.py`); `choose` then picks positions in it, mapped back to ids here.
        constants: nest of per-sentence tensors (`batch x ...`) that `step_fn` and `choose`
            read, e.g. the encoder's output; they follow their sentences when the batch sheds
            finished ones.
        min_rows: the batch sheds finished sentences down to this many rows (`batch_size`: never).
    """
    positions = ops.expand_dims(ops.arange(max_length, dtype="int32"), 0)  # 1 x max_length
    tokens = ops.full((batch_size,), BOS_ID, dtype="int32")
    output = ops.zeros((batch_size, max_length), dtype="int32")
    if finished is None:
        finished = ops.zeros((batch_size,), dtype="bool")
    scores = ops.zeros((batch_size,), dtype="float32")

    def advance(step, carried, constants):
        tokens, states, finished, output, scores, *attention = carried
        logits, states, *weights = step_fn(tokens, states, constants)
        allowed = block_repeats(logits, output, step, no_repeat_ngram) if no_repeat_ngram else logits
        chosen = ops.cast(choose(allowed, step, constants), "int32")
        logits = ops.cast(logits, "float32")
        # log p(chosen) without a batch x vocab log-softmax: its logit minus the log-normaliser.
        picked = ops.take_along_axis(logits, ops.expand_dims(chosen, 1), axis=1)[:, 0] - ops.logsumexp(logits, axis=-1)
        if shortlist is not None:
            chosen = ops.take(shortlist, chosen)
        scores = scores + ops.where(finished, 0.0, picked)
        if attention:
            # This step's weights, batch x 1 x src_len, at row `step`; none for finished rows.
            weights = ops.where(ops.expand_dims(finished, -1), 0.0, ops.cast(weights[0], "float32"))
            attention = (ops.where(ops.expand_dims(positions == step, -1),
                                   ops.expand_dims(weights, 1), attention[0]),)
        chosen = ops.where(finished, PAD_ID, chosen)  # batch
        output = ops.where(positions == step, ops.expand_dims(chosen, 1), output)
        finished = ops.logical_or(finished, chosen == EOS_ID)
        return (chosen, states, finished, output, scores, *attention)

    carried = (tokens, states, finished, output, scores)
    if source_length is not None:
        carried += (ops.zeros((batch_size, max_length, source_length), dtype="float32"),)
    _, (_, _, _, output, scores, *attention) = shrinking_while_loop(
        lambda step, carried: step < max_length, advance, ops.convert_to_tensor(0, dtype="int32"),
        carried, constants, finished=lambda carried: carried[2], min_rows=min_rows)
    return (output, scores, *attention)
