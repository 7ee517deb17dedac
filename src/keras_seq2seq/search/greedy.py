"""Greedy search: at every step take the most likely token."""

from __future__ import annotations

from keras import ops

from keras_seq2seq.search.compaction import MIN_ROWS
from keras_seq2seq.search.loop import decode_loop
from keras_seq2seq.search.ranking import argmax_last


def greedy_search(model, source_ids, max_length: int, return_attention: bool = False,
                  no_repeat_ngram: int = 0, shortlist=None, min_rows: int = MIN_ROWS):
    """Decode a batch greedily; `source_ids` is `batch x src_len`.

    Returns `(ids batch x max_length, scores batch)`, and with `return_attention` also the
    attention weights of every step, `batch x max_length x src_len` (see `decode_loop`). With
    `no_repeat_ngram` n > 0, the best token that does not repeat an n-gram is taken. With a
    `shortlist` of target ids (see `shortlist.py`), only those are scored. The batch sheds
    finished sentences down to `min_rows` rows (`compaction.py`).
    """
    state, source = model.encode(source_ids, max_length=max_length)
    # The shortlist's output weights, gathered once (an extra argument only when there is one).
    words = () if shortlist is None else (model.decoder.shortlist_output(shortlist),)
    keep = 3 if return_attention else 2
    return decode_loop(
        lambda tokens, state, source: model.decode_step(tokens, state, source, *words)[:keep],
        state,
        ops.shape(source_ids)[0],
        max_length,
        choose=lambda logits, step, source: argmax_last(logits),
        finished=empty_sources(source_ids),
        source_length=ops.shape(source_ids)[1] if return_attention else None,
        no_repeat_ngram=no_repeat_ngram,
        shortlist=shortlist,
        constants=source,
        min_rows=min_rows,
    )


def empty_sources(source_ids):
    """Rows that are all padding: nothing to translate, so they start finished."""
    return ops.all(ops.equal(source_ids, 0), axis=-1)
