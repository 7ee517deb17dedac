"""Sampling for dialogue: draw each token from the model's distribution instead of taking the best.

The distribution is sharpened or flattened by a temperature and cut to the `top_k` most likely
tokens and/or the smallest set whose probability reaches `top_p` (nucleus sampling). The random
numbers come in from the caller, one uniform per sentence and step, drawn on the host with a
seeded numpy generator: the same seed gives the same outputs on every backend, and nothing random
happens inside the compiled loop.
"""

from __future__ import annotations

from keras import ops

from keras_seq2seq.search.greedy import empty_sources
from keras_seq2seq.search.compaction import MIN_ROWS
from keras_seq2seq.search.loop import decode_loop
from keras_seq2seq.text.vocabulary import BOS_ID, PAD_ID


def filter_probabilities(logits, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0):
    """Probabilities `batch x vocab` after temperature, top-k and top-p; rows sum to 1."""
    logits = ops.cast(logits, "float32") / max(temperature, 1e-6)
    probs = ops.softmax(logits, axis=-1)
    if top_k or top_p < 1.0:
        ranked = ops.flip(ops.sort(probs, axis=-1), axis=-1)  # batch x vocab, descending
        vocab = ops.shape(probs)[-1]
        keep = ops.ones_like(probs, dtype="bool")
        if top_k:
            kth = ranked[:, min(top_k, vocab) - 1 : min(top_k, vocab)]  # batch x 1
            keep = ops.logical_and(keep, probs >= kth)
        if top_p < 1.0:
            # The smallest prefix of the ranking whose mass reaches top_p; ties at its edge stay.
            before = ops.cumsum(ranked, axis=-1) - ranked
            threshold = ops.min(ops.where(before < top_p, ranked, ops.ones_like(ranked)), axis=-1,
                                keepdims=True)
            keep = ops.logical_and(keep, probs >= threshold)
        probs = ops.where(keep, probs, ops.zeros_like(probs))
        probs = probs / ops.sum(probs, axis=-1, keepdims=True)
    return probs


def inverse_cdf_choice(probs, uniforms):
    """The token whose cumulative-probability interval holds each row's uniform number."""
    cumulative = ops.cumsum(probs, axis=-1)
    below = ops.cast(cumulative <= ops.expand_dims(uniforms, -1), "int32")
    chosen = ops.sum(below, axis=-1)
    # Rounding can leave the total a hair under 1: never step past the last kept token.
    positions = ops.arange(ops.shape(probs)[-1], dtype="int32")
    last_kept = ops.max(ops.where(probs > 0, positions, 0), axis=-1)
    return ops.minimum(chosen, last_kept)


def sample_search(model, source_ids, uniforms, max_length: int, temperature: float = 1.0,
                  top_k: int = 0, top_p: float = 1.0, return_attention: bool = False,
                  no_repeat_ngram: int = 0, min_rows: int = MIN_ROWS):
    """Decode a batch by sampling; `uniforms` is `batch x max_length` numbers in [0, 1).

    Returns `(ids, scores)` like greedy search (and the attention weights with
    `return_attention`); scores are the model's log-probabilities of the sampled tokens (before
    temperature and filtering). With `no_repeat_ngram` n > 0, tokens that would repeat an
    n-gram of the output are never drawn.
    """
    state, source = model.encode(source_ids, max_length=max_length)

    def choose(logits, step, constants):
        # <pad> and <bos> are never outputs; a hot sample could otherwise cut a sentence short.
        ids = ops.expand_dims(ops.arange(ops.shape(logits)[-1]), 0)  # 1 x vocab
        logits = ops.where((ids == PAD_ID) | (ids == BOS_ID), ops.full_like(logits, -1e9), logits)
        probs = filter_probabilities(logits, temperature, top_k, top_p)
        return inverse_cdf_choice(probs, ops.take(constants[1], step, axis=1))

    keep = 3 if return_attention else 2
    return decode_loop(lambda tokens, state, constants: model.decode_step(tokens, state, constants[0])[:keep],
                       state, ops.shape(source_ids)[0], max_length, choose,
                       finished=empty_sources(source_ids),
                       source_length=ops.shape(source_ids)[1] if return_attention else None,
                       no_repeat_ngram=no_repeat_ngram, constants=(source, uniforms),
                       min_rows=min_rows)
