"""Sampling for dialogue: draw each token from the model's distribution instead of taking the best.

The distribution is sharpened or flattened by a temperature and cut to the `top_k` most likely
tokens and/or the smallest set whose probability reaches `top_p` (nucleus sampling). The random
numbers come in from the caller, one uniform per sentence and step, drawn on the host with a
seeded numpy generator: the same seed gives the same outputs on every backend, and nothing random
happens inside the compiled loop.

The temperature, `top_k` and `top_p` are inputs of the compiled loop, one value per sentence, not
constants baked into it: a server that is sent a new temperature with every request decodes them
all with the one program it compiled (compiling takes seconds). Only whether top-k or top-p
filtering happens at all is part of the program (the filters sort the vocabulary every step).
"""

from __future__ import annotations

from keras import ops

from keras_seq2seq.search.greedy import empty_sources
from keras_seq2seq.search.compaction import MIN_ROWS
from keras_seq2seq.search.loop import decode_loop
from keras_seq2seq.text.vocabulary import BOS_ID, PAD_ID


# The lowest temperature used: dividing by less would overflow float32 logits. At 1e-6 a draw is
# already the most likely token, bar exact ties.
MIN_TEMPERATURE = 1e-6
BANNED_LOGIT = -1e9  # a logit no token of a real distribution has


def filter_probabilities(logits, temperature=1.0, top_k=0, top_p: float = 1.0, banned=None):
    """Probabilities `batch x vocab` after temperature, top-k and top-p; rows sum to 1.

    Args:
        logits: `batch x vocab`.
        temperature: a number, or a `batch` tensor (one per row); at least `MIN_TEMPERATURE`
            is used.
        top_k: keep the k most likely tokens (0: all); a number, or a `batch` tensor whose
            rows may hold 0.
        top_p: keep the smallest set holding this much probability (1: all); a number, or a
            `batch` tensor whose rows may hold 1.
        banned: optional booleans broadcastable to `batch x vocab`, tokens never drawn. They are
            banned after the temperature, so that a very hot one cannot bring them back.

    A filter given as the number 0 (top_k) or 1 (top_p) is left out of the computation; given
    as a tensor, it is computed and applied where its rows ask for it.
    """
    vocab = ops.shape(logits)[-1]
    if _is_number(temperature):
        logits = ops.cast(logits, "float32") / max(temperature, MIN_TEMPERATURE)
    else:
        logits = ops.cast(logits, "float32") / _column(ops.maximum(ops.cast(temperature, "float32"), MIN_TEMPERATURE))
    if banned is not None:
        logits = ops.where(banned, BANNED_LOGIT, logits)
    probs = ops.softmax(logits, axis=-1)
    use_top_k = not _is_number(top_k) or top_k > 0
    use_top_p = not _is_number(top_p) or top_p < 1.0
    if use_top_k or use_top_p:
        ranked = ops.flip(ops.sort(probs, axis=-1), axis=-1)  # batch x vocab, descending
        keep = ops.ones_like(probs, dtype="bool")
        if use_top_k and _is_number(top_k):
            kth = ranked[:, min(top_k, vocab) - 1 : min(top_k, vocab)]  # batch x 1
            keep = ops.logical_and(keep, probs >= kth)
        elif use_top_k:
            k = _column(ops.clip(ops.cast(top_k, "int32"), 1, vocab))  # batch x 1
            kth = ops.take_along_axis(ranked, k - 1, axis=1)
            keep = ops.logical_and(keep, ops.logical_or(probs >= kth, _column(top_k <= 0)))
        if use_top_p:
            # The smallest prefix of the ranking whose mass reaches top_p; ties at its edge stay.
            p = top_p if _is_number(top_p) else _column(ops.cast(top_p, "float32"))
            before = ops.cumsum(ranked, axis=-1) - ranked
            threshold = ops.min(ops.where(before < p, ranked, ops.ones_like(ranked)), axis=-1,
                                keepdims=True)
            within = probs >= threshold
            if not _is_number(top_p):
                within = ops.logical_or(within, p >= 1.0)
            keep = ops.logical_and(keep, within)
        probs = ops.where(keep, probs, ops.zeros_like(probs))
        probs = probs / ops.sum(probs, axis=-1, keepdims=True)
    return probs


def _is_number(value) -> bool:
    return isinstance(value, (int, float))


def _column(values):
    """`batch` values as `batch x 1`, to broadcast over the vocabulary."""
    return ops.expand_dims(values, 1)


def inverse_cdf_choice(probs, uniforms):
    """The token whose cumulative-probability interval holds each row's uniform number."""
    cumulative = ops.cumsum(probs, axis=-1)
    below = ops.cast(cumulative <= ops.expand_dims(uniforms, -1), "int32")
    chosen = ops.sum(below, axis=-1)
    # Rounding can leave the total a hair under 1: never step past the last kept token.
    positions = ops.arange(ops.shape(probs)[-1], dtype="int32")
    last_kept = ops.max(ops.where(probs > 0, positions, 0), axis=-1)
    return ops.minimum(chosen, last_kept)


def sample_search(model, source_ids, uniforms, max_length: int, temperature=1.0, top_k=0,
                  top_p=1.0, return_attention: bool = False, no_repeat_ngram: int = 0,
                  min_rows: int = MIN_ROWS):
    """Decode a batch by sampling; `uniforms` is `batch x max_length` numbers in [0, 1).

    `temperature`, `top_k` and `top_p` are numbers for the whole batch, or `batch` tensors, one
    value per sentence (see `filter_probabilities`). Returns `(ids, scores)` like greedy search
    (and the attention weights with `return_attention`); scores are the model's
    log-probabilities of the sampled tokens (before temperature and filtering). With
    `no_repeat_ngram` n > 0, tokens that would repeat an n-gram of the output are never drawn.
    """
    state, source = model.encode(source_ids, max_length=max_length)
    # Per-sentence values travel with their sentences when the batch sheds finished ones.
    per_row = {name: value for name, value in
               (("temperature", temperature), ("top_k", top_k), ("top_p", top_p)) if not _is_number(value)}
    fixed = {"temperature": temperature, "top_k": top_k, "top_p": top_p}

    def choose(logits, step, constants):
        _, uniforms, rows = constants
        # <pad> and <bos> are never outputs (a hot sample could otherwise cut a sentence short),
        # nor are tokens `no_repeat_ngram` blocked (at BANNED_LOGIT already).
        ids = ops.expand_dims(ops.arange(ops.shape(logits)[-1]), 0)  # 1 x vocab
        banned = (ids == PAD_ID) | (ids == BOS_ID) | (ops.cast(logits, "float32") <= BANNED_LOGIT)
        probs = filter_probabilities(logits, **{**fixed, **rows}, banned=banned)
        return inverse_cdf_choice(probs, ops.take(uniforms, step, axis=1))

    keep = 3 if return_attention else 2
    return decode_loop(lambda tokens, state, constants: model.decode_step(tokens, state, constants[0])[:keep],
                       state, ops.shape(source_ids)[0], max_length, choose,
                       finished=empty_sources(source_ids),
                       source_length=ops.shape(source_ids)[1] if return_attention else None,
                       no_repeat_ngram=no_repeat_ngram, constants=(source, uniforms, per_row),
                       min_rows=min_rows)
