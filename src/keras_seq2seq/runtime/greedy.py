"""Greedy search over the exported graphs, in numpy: the same decisions as `search/greedy.py`.

Every step takes each sentence's best token (the decoder graph ranks them: ties go to the lower
id, as `argmax_last` does) and adds its log-probability to the sentence's score. A sentence that
produced `<eos>` leaves the batch at once: its rows are dropped from the state and the source,
so later steps only compute sentences still going. Nothing here compiles, so a smaller batch
costs nothing to switch to.
"""

from __future__ import annotations

import numpy as np

from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID


def greedy_search(graphs, source_ids: np.ndarray, max_length: int, shortlist: np.ndarray | None = None,
                  return_attention: bool = False):
    """Decode `batch x source_length` ids; returns `(ids batch x max_length, scores batch)`,
    and with `return_attention` also `batch x max_length x source_length` weights (zero rows
    after `<eos>`). Rows that are all padding start finished and output nothing."""
    batch = len(source_ids)
    output = np.zeros((batch, max_length), np.int32)
    scores = np.zeros(batch, np.float32)
    attention = np.zeros((batch, max_length, source_ids.shape[1]), np.float32) if return_attention else None
    live = np.flatnonzero(source_ids.any(axis=1))  # which sentences the rows below are
    if not len(live):  # nothing but empty lines
        return (output, scores) if attention is None else (output, scores, attention)
    state, source = graphs.encode(source_ids[live])
    tokens = np.full(len(live), BOS_ID, np.int32)
    for step in range(max_length):
        if not len(live):
            break
        log_probs, ids, state, weights = graphs.step(tokens, state, source, 1, shortlist)
        chosen = ids[:, 0].astype(np.int32)
        if shortlist is not None:
            chosen = shortlist[chosen]  # positions in the shortlist -> target ids
        scores[live] += log_probs[:, 0]
        output[live, step] = chosen
        if attention is not None:
            attention[live, step] = weights
        going = chosen != EOS_ID
        if not going.all():
            live, tokens = live[going], chosen[going]
            state = [s[going] for s in state]
            source = [s[going] for s in source]
        else:
            tokens = chosen
    return (output, scores) if attention is None else (output, scores, attention)
