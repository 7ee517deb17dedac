"""Batched beam search, compiled as one loop like greedy search.

Every sentence keeps `beam_size` hypotheses; the batch is flattened to `batch * beam` rows for
the decoder, so one step advances all hypotheses of all sentences at once. Each step, every
hypothesis offers its `beam_size` best next tokens and the best `beam_size` of those continuations
per sentence survive (the best ones overall are always among them; see `ranking.py`).
A finished hypothesis (it produced `<eos>`) can only be extended by padding at no cost, so it
keeps its score and competes with the live ones. A sentence is done once its `n_best` best
hypotheses have finished and no live one can still overtake them: scores only fall as a
hypothesis grows, so a live score below the `n_best`-th finished one (with the length penalty, below
it even at the longest length allowed) can never climb back. Its live hypotheses are then dropped,
so one long, unlikely hypothesis no longer keeps a whole batch decoding to the length limit; the
`n_best` returned are exactly those of a search run to the end. The loop stops when every sentence
is done, or at the length limit.

Scores are summed log-probabilities. Finished hypotheses are ranked with the GNMT length
penalty (Wu et al., 2016): `score / ((5 + length) / 6) ** alpha`; `alpha = 0` ranks by the raw sum.
How the beam is pruned at every step depends on the model (`normalised_pruning`): the Transformer
prunes by the normalised scores too, as OpenNMT-py does (a finished hypothesis competes for a
place at its own length, a live one at its length after this step's token); the recurrent model
prunes by raw sums, as it always has, so that its outputs stay those of the models and figures
recorded before the Transformer existed.
With `beam_size = 1` this is exactly greedy search.
"""

from __future__ import annotations

from keras import ops, tree

from keras_seq2seq.search.compaction import MIN_ROWS, shrinking_while_loop
from keras_seq2seq.search.ranking import best_extensions
from keras_seq2seq.search.repeats import repeated_ngram_mask
from keras_seq2seq.text.vocabulary import BOS_ID, EOS_ID, PAD_ID

NEG_INF = -1e9


def length_penalty(lengths, alpha: float):
    """GNMT's `((5 + length) / 6) ** alpha`."""
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)


def beam_search(model, source_ids, max_length: int, beam_size: int, alpha: float = 0.0,
                return_attention: bool = False, no_repeat_ngram: int = 0, n_best: int | None = None,
                shortlist=None, min_rows: int = MIN_ROWS, normalised_pruning: bool | None = None):
    """Decode a batch with beam search; with `no_repeat_ngram` n > 0, no hypothesis repeats an n-gram.
    With a `shortlist` of target ids (see `shortlist.py`), only those are scored.

    Returns `(ids, scores)`: `batch x n_best x max_length` hypotheses (0 after `<eos>`) sorted
    best first, and their `batch x n_best` length-normalised scores; `n_best` defaults to
    `beam_size`. With `return_attention`, also each hypothesis's attention weights,
    `batch x n_best x max_length x src_len`: they travel with their hypothesis when the beam is
    reordered, like its tokens (zero rows after its `<eos>`). The batch sheds settled sentences
    down to `min_rows` sentences (`compaction.py`). `normalised_pruning` (with `alpha > 0`) prunes
    the beam by length-normalised scores; `None` takes the model's own rule, its
    `prunes_by_normalised_scores` attribute (absent: raw sums).
    """
    batch = ops.shape(source_ids)[0]
    k = beam_size
    n_best = k if n_best is None else n_best  # 1 <= n_best <= k (checked by `Generator`)
    # The best normalised score a live hypothesis could still reach: its score only falls, and
    # the length penalty's divisor is largest at the length limit.
    best_divisor = ((5.0 + max_length) / 6.0) ** alpha  # GNMT's penalty, in Python: a constant
    if normalised_pruning is None:
        normalised_pruning = getattr(model, "prunes_by_normalised_scores", False)
    normalised_pruning = bool(normalised_pruning and alpha)
    state, source = model.encode(source_ids, max_length=max_length)
    # The shortlist's output weights, gathered once (an extra argument only when there is one).
    words = () if shortlist is None else (model.decoder.shortlist_output(shortlist),)
    # Every sentence's state and source repeated k times, `batch x k x ...`, flattened to
    # `batch*k` rows for the decoder (rows b*k .. b*k+k-1 hold sentence b's hypotheses).
    state, source = tree.map_structure(lambda x: _per_sentence(ops.repeat(x, k, axis=0), k),
                                       (state, source))

    positions = ops.reshape(ops.arange(max_length, dtype="int32"), (1, 1, max_length))
    # Only the first hypothesis is live at the start, so the first step does not pick k copies.
    scores = ops.tile(ops.expand_dims(ops.concatenate(
        [ops.zeros((1,), "float32"), ops.full((k - 1,), NEG_INF, "float32")]), 0), (batch, 1))
    tokens = ops.full((batch, k), BOS_ID, dtype="int32")
    # Empty sources (filler rows of a short batch) start finished: they never hold the loop up.
    finished = ops.tile(ops.expand_dims(ops.all(ops.equal(source_ids, 0), axis=-1), 1), (1, k))
    output = ops.zeros((batch, k, max_length), dtype="int32")
    lengths = ops.zeros((batch, k), dtype="int32")

    def advance(step, carried, source):
        tokens, state, scores, finished, output, lengths, *attention = carried
        rows = ops.shape(scores)[0]  # sentences in this phase (the batch sheds finished ones)
        state, source = tree.map_structure(_flat, (state, source))
        logits, state, weights = model.decode_step(ops.reshape(tokens, (-1,)), state, source, *words)
        blocked = None
        if no_repeat_ngram:
            blocked = repeated_ngram_mask(ops.reshape(output, (-1, max_length)), step, no_repeat_ngram,
                                          ops.shape(logits)[-1])
        # Normalised pruning compares hypotheses of different lengths by their normalised
        # scores: a finished one at its length, a live one at its length + 1.
        divisor = length_penalty(ops.where(finished, lengths, lengths + 1), alpha) if normalised_pruning else None
        scores, parent, chosen = best_extensions(logits, scores, finished, k, blocked, divisor)
        if shortlist is not None:
            chosen = ops.take(shortlist, chosen)  # positions in the shortlist -> target ids
        offsets = ops.expand_dims(ops.arange(rows, dtype="int32") * k, 1)  # rows x 1
        parents = ops.reshape(offsets + parent, (-1,))  # rows*k, into the flattened hypotheses
        state = tree.map_structure(lambda x: _per_sentence(ops.take(x, parents, axis=0), k), state)
        output = ops.take_along_axis(output, ops.expand_dims(parent, -1), axis=1)
        was_finished = ops.take_along_axis(finished, parent, axis=1)
        # Only padding follows a finished hypothesis (a tie among impossible candidates could
        # otherwise pick another token for it).
        chosen = ops.where(was_finished, PAD_ID, chosen)
        lengths = ops.take_along_axis(lengths, parent, axis=1) + ops.cast(ops.logical_not(was_finished), "int32")
        output = ops.where(positions == step, ops.expand_dims(chosen, -1), output)
        finished = ops.logical_or(was_finished, chosen == EOS_ID)
        if n_best < k:  # (for all k, a sentence is settled only when every hypothesis has ended)
            done = _settled(scores, finished, lengths, n_best, alpha, best_divisor)  # rows x 1
            # A settled sentence's live hypotheses can never rank among its n best: drop them.
            scores = ops.where(ops.logical_and(done, ops.logical_not(finished)), NEG_INF, scores)
            finished = ops.logical_or(finished, done)
        if attention:
            attention = (_extend_attention(attention[0], weights, parent, was_finished, step),)
        return (chosen, state, scores, finished, output, lengths, *attention)

    carried = (tokens, state, scores, finished, output, lengths)
    if return_attention:
        carried += (ops.zeros((batch, k, max_length, ops.shape(source_ids)[1]), "float32"),)
    _, (_, _, scores, _, output, lengths, *attention) = shrinking_while_loop(
        lambda step, carried: step < max_length, advance, ops.convert_to_tensor(0, dtype="int32"),
        carried, source, finished=lambda carried: ops.all(carried[3], axis=1), min_rows=min_rows)
    if alpha:
        scores = scores / length_penalty(lengths, alpha)
    if alpha or n_best < k:  # rank by the final scores (dropped hypotheses last)
        scores, order = ops.top_k(scores, k)
        output = ops.take_along_axis(output, ops.expand_dims(order, -1), axis=1)
        attention = [ops.take_along_axis(a, ops.reshape(order, (batch, k, 1, 1)), axis=1) for a in attention]
    return tuple(x[:, :n_best] for x in (output, scores, *attention))


def _per_sentence(x, k: int):
    """`batch*k x ...` rows as `batch x k x ...`: the layout in which sentences are shed."""
    return ops.reshape(x, (-1, k, *ops.shape(x)[1:]))


def _flat(x):
    """`batch x k x ...` as the decoder's `batch*k x ...` rows."""
    return ops.reshape(x, (-1, *ops.shape(x)[2:]))


def _settled(scores, finished, lengths, n_best: int, alpha: float, best_divisor: float):
    """`batch x 1` booleans: the sentence's `n_best` best hypotheses are final.

    True when at least `n_best` hypotheses have finished and the best live one, even scored at
    the length limit, ranks no higher than the `n_best`-th finished one.
    """
    ranked = scores / length_penalty(lengths, alpha) if alpha else scores
    finished_ranked = ops.where(finished, ranked, 2 * NEG_INF)
    if n_best == 1:
        nth_finished = ops.max(finished_ranked, axis=1, keepdims=True)
    else:
        nth_finished = ops.top_k(finished_ranked, n_best)[0][:, n_best - 1 :]
    live_bound = ops.max(ops.where(finished, 2 * NEG_INF, scores / best_divisor), axis=1, keepdims=True)
    return ops.logical_and(nth_finished > NEG_INF, live_bound <= nth_finished)


def _extend_attention(attention, weights, parent, was_finished, step):
    """The surviving hypotheses' attention history, with this step's weights as row `step`.

    `attention` is `batch x k x max_length x src_len` in the previous beam order; `weights`
    (`batch*k x src_len`) were computed from the parents, which chose this step's tokens.
    """
    batch, k, max_length, src_len = ops.shape(attention)
    history = ops.take_along_axis(attention, ops.reshape(parent, (batch, k, 1, 1)), axis=1)
    weights = ops.take_along_axis(ops.reshape(ops.cast(weights, "float32"), (batch, k, src_len)),
                                  ops.expand_dims(parent, -1), axis=1)  # batch x k x src_len
    weights = ops.where(ops.expand_dims(was_finished, -1), 0.0, weights)  # padding attends nowhere
    at_step = ops.reshape(ops.arange(max_length, dtype="int32") == step, (1, 1, max_length, 1))
    return ops.where(at_step, ops.expand_dims(weights, 2), history)
