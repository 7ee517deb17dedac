"""Replies that are not all "I don't know": maximum mutual information reranking.

A dialogue model trained on likelihood learns that short, safe replies ("I don't know .",
"Thank you .") fit almost any context, and beam search, which looks for the likeliest output,
finds them again and again. Li et al. (2016, "A Diversity-Promoting Objective Function for
Neural Conversation Models") rank replies instead by how much they say about the context:
the mutual information between the two. Their MMI-bidi recipe keeps beam search for the
candidates and reranks its n-best list with a second, reverse model that reads a reply and
predicts the turn before it:

    score(T) = log p(T | S) + weight * log p(S | T)

A generic reply could follow anything, so it predicts no particular turn well and sinks; a
reply that answers this very turn rises. The reverse model here is trained on the same pairs
with the columns swapped (`--source-column 1 --target-column 0`) from contexts of one turn, so
`S` above is the last turn of the context only (the one the reply answers).
"""

from __future__ import annotations

import math
from typing import Sequence

from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.data.dialogue import SEPARATOR
from keras_seq2seq.scoring import Scoring

NBest = list[tuple[str, float]]  # (text, score), best first


def last_turn(context: str) -> str:
    """The newest turn of a context built by `data.dialogue.context_source`."""
    return context.rsplit(SEPARATOR, 1)[-1].strip()


class MmiReranker:
    """Reranks n-best replies by `forward score + weight * log p(last turn | reply)`.

    Args:
        reverse: the reverse model's bundle (reply -> previous turn).
        weight: how much the reverse score counts (0 keeps the beam's order).
        batch_size: pairs scored together by the reverse model.
    """

    def __init__(self, reverse: ModelBundle, weight: float = 0.5, batch_size: int = 64):
        if not weight >= 0:
            raise ValueError(f"the MMI weight must be >= 0, got {weight!r}")
        self.scoring = Scoring(reverse, batch_size)
        self.weight = weight

    def rerank(self, contexts: Sequence[str], candidates: Sequence[NBest]) -> list[NBest]:
        """Each context's candidates, reordered best first, with their combined scores."""
        if len(contexts) != len(candidates):
            raise ValueError(f"{len(candidates)} candidate lists for {len(contexts)} contexts")
        # An empty reply predicts nothing: it goes last, unscored.
        pairs = [(reply, last_turn(context)) for context, replies in zip(contexts, candidates)
                 for reply, _ in replies if reply.strip()]
        reverse = iter(self.scoring.log_probs(pairs)[0] if pairs else [])
        reranked = []
        for replies in candidates:
            scored = [(reply, score + self.weight * float(next(reverse)) if reply.strip() else -math.inf)
                      for reply, score in replies]
            # Stable: equal scores keep the beam's order.
            reranked.append(sorted(scored, key=lambda candidate: -candidate[1]))
        return reranked
