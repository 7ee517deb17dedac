"""Beam search over the exported graphs, in numpy: the same search as `search/beam.py`.

Each sentence keeps `k` hypotheses as `k` decoder rows. Every step, each hypothesis offers its
`k` best next tokens (ranked inside the decoder graph), and the best `k` of those `k x k`
continuations per sentence survive (ties go to the lower position, as `ops.top_k` does). A
finished hypothesis extends only with padding at no cost. Scores are summed log-probabilities in
float32; finished hypotheses are ranked with GNMT's length penalty `((5 + length) / 6) ** alpha`.
The beam is pruned by raw sums, as the Keras search prunes for the recurrent model (the only one
exported); `normalised_pruning=True` prunes by normalised scores instead, the Keras search's rule
for the Transformer (a finished hypothesis at its length, a live one at its length after this
step's token), so the two searches stay one search.

With `n_best < k`, a sentence stops as soon as its `n_best` best hypotheses have finished and no
live one can overtake them (a score only falls as a hypothesis grows), exactly as in Keras. A
sentence whose hypotheses have all finished leaves the batch at once, with its rows of the state
and the source.
"""

from __future__ import annotations

import numpy as np

from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID, PAD_ID

NEG_INF = np.float32(-1e9)


def length_penalty(lengths: np.ndarray, alpha: float) -> np.ndarray:
    """GNMT's `((5 + length) / 6) ** alpha`, in float32."""
    return ((np.float32(5.0) + lengths.astype(np.float32)) / np.float32(6.0)) ** np.float32(alpha)


def beam_search(graphs, source_ids: np.ndarray, max_length: int, beam_size: int, alpha: float = 0.0,
                n_best: int | None = None, shortlist: np.ndarray | None = None,
                return_attention: bool = False, normalised_pruning: bool = False):
    """Decode `batch x source_length` ids with beam search.

    Returns `(ids batch x n_best x max_length, scores batch x n_best)`, best first (and with
    `return_attention`, each hypothesis's `max_length x source_length` weights).
    """
    k = beam_size
    n_best = k if n_best is None else n_best
    batch, source_length = source_ids.shape
    best_divisor = np.float32(((5.0 + max_length) / 6.0) ** alpha)
    vocab = len(shortlist) if shortlist is not None else None
    offered = k if vocab is None else min(k, vocab)

    scores = np.tile(np.concatenate([[0.0], np.full(k - 1, NEG_INF)]).astype(np.float32), (batch, 1))
    finished = np.repeat(~source_ids.any(axis=1, keepdims=True), k, axis=1)  # empty sources: done
    output = np.zeros((batch, k, max_length), np.int32)
    lengths = np.zeros((batch, k), np.int32)
    attention = np.zeros((batch, k, max_length, source_length), np.float32) if return_attention else None

    live = np.flatnonzero(~finished.all(axis=1))  # sentences still searching
    state, source = graphs.encode(source_ids[live]) if len(live) else ([], [])
    state = [np.repeat(s, k, axis=0) for s in state]  # rows b*k .. b*k+k-1: sentence b's hypotheses
    source = [np.repeat(s, k, axis=0) for s in source]
    tokens = np.full((len(live), k), BOS_ID, np.int32)
    first_only = np.arange(offered) == 0

    for step in range(max_length):
        if not len(live):
            break
        rows = len(live)
        log_probs, ids, state, weights = graphs.step(tokens.reshape(-1), state, source, offered, shortlist)
        was_done = finished[live].reshape(-1, 1)
        # A finished hypothesis offers padding once, at no cost; nothing else.
        log_probs = np.where(was_done, np.where(first_only, np.float32(0.0), NEG_INF), log_probs)
        ids = np.where(was_done, PAD_ID, ids).astype(np.int32)
        candidates = (scores[live][:, :, None] + log_probs.reshape(rows, k, offered)).reshape(rows, k * offered)
        ranked = candidates
        if normalised_pruning and alpha:  # each candidate at its length: a finished one's own, a live one's + 1
            divisor = length_penalty(np.where(finished[live], lengths[live], lengths[live] + 1), alpha)
            ranked = candidates / np.repeat(divisor, offered, axis=1)
        picked = np.argsort(-ranked, axis=1, kind="stable")[:, :k]
        new_scores = np.take_along_axis(candidates, picked, axis=1)
        parent = picked // offered
        chosen = np.take_along_axis(ids.reshape(rows, k * offered), picked, axis=1)
        if shortlist is not None:
            chosen = shortlist[chosen]  # positions in the shortlist -> target ids
        hypotheses = (np.arange(rows)[:, None] * k + parent).reshape(-1)
        state = [s[hypotheses] for s in state]

        was_finished = np.take_along_axis(finished[live], parent, axis=1)
        chosen = np.where(was_finished, PAD_ID, chosen).astype(np.int32)
        sub_output = np.take_along_axis(output[live], parent[:, :, None], axis=1)
        sub_output[:, :, step] = chosen
        sub_lengths = np.take_along_axis(lengths[live], parent, axis=1) + ~was_finished
        sub_finished = was_finished | (chosen == EOS_ID)
        if n_best < k:  # (for all k, a sentence is settled only when every hypothesis has ended)
            done = _settled(new_scores, sub_finished, sub_lengths, n_best, alpha, best_divisor)
            new_scores = np.where(done & ~sub_finished, NEG_INF, new_scores)
            sub_finished |= done
        if attention is not None:
            history = np.take_along_axis(attention[live], parent[:, :, None, None], axis=1)
            step_weights = np.take_along_axis(weights.reshape(rows, k, -1), parent[:, :, None], axis=1)
            history[:, :, step] = np.where(was_finished[:, :, None], np.float32(0.0), step_weights)
            attention[live] = history
        scores[live], finished[live], output[live], lengths[live] = new_scores, sub_finished, sub_output, sub_lengths
        tokens = chosen

        going = ~sub_finished.all(axis=1)
        if not going.all():  # settled sentences leave the batch
            live, tokens = live[going], tokens[going]
            kept_rows = np.repeat(going, k)
            state = [s[kept_rows] for s in state]
            source = [s[kept_rows] for s in source]

    if alpha:
        scores = scores / length_penalty(lengths, alpha)
    if alpha or n_best < k:  # rank by the final scores (dropped hypotheses last)
        order = np.argsort(-scores, axis=1, kind="stable")
        scores = np.take_along_axis(scores, order, axis=1)
        output = np.take_along_axis(output, order[:, :, None], axis=1)
        if attention is not None:
            attention = np.take_along_axis(attention, order[:, :, None, None], axis=1)
    found = (output[:, :n_best], scores[:, :n_best])
    return found if attention is None else found + (attention[:, :n_best],)


def _settled(scores, finished, lengths, n_best: int, alpha: float, best_divisor) -> np.ndarray:
    """`rows x 1` booleans: the sentence's `n_best` best hypotheses are final (see `search/beam.py`)."""
    ranked = scores / length_penalty(lengths, alpha) if alpha else scores
    finished_ranked = np.where(finished, ranked, 2 * NEG_INF)
    nth_finished = -np.sort(-finished_ranked, axis=1)[:, n_best - 1 : n_best]
    live_bound = np.max(np.where(finished, 2 * NEG_INF, scores / best_divisor), axis=1, keepdims=True)
    return (nth_finished > NEG_INF) & (live_bound <= nth_finished)
