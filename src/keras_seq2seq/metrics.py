"""Corpus-level scores for generated text: exact match, token accuracy, BLEU and chrF; for
dialogue, also how varied the replies are (Distinct-n, the ten most frequent replies' share).

BLEU and chrF come from sacrebleu with its defaults (13a tokenisation, cased), computed on
detokenised text against the raw references, so our figures compare with other toolkits'. The
dialogue scores count tokens as sacrebleu's 13a tokeniser cuts them, so they too mean the same
for any system's output, whatever its own tokeniser.
"""

from __future__ import annotations

import collections
from typing import Callable, Sequence

import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

TOP_REPLIES = 10  # `top_share` counts the outputs taken by this many most frequent replies


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Share of outputs identical to their reference (after stripping outer whitespace)."""
    _check(hypotheses, references)
    hits = sum(h.strip() == r.strip() for h, r in zip(hypotheses, references))
    return hits / max(len(references), 1)


def token_accuracy(hypotheses: Sequence[str], references: Sequence[str],
                   tokenize: Callable[[str], list[str]]) -> float:
    """Position-wise token agreement: matches / longer of the two lengths, over the corpus.

    Dividing by the longer length means both missing and extra tokens cost accuracy.
    """
    _check(hypotheses, references)
    matches = total = 0
    for hypothesis, reference in zip(hypotheses, references):
        h, r = tokenize(hypothesis), tokenize(reference)
        matches += sum(a == b for a, b in zip(h, r))
        total += max(len(h), len(r))
    return matches / max(total, 1)


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    _check(hypotheses, references)
    return sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    _check(hypotheses, references)
    return sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score


def signatures() -> dict[str, str]:
    """sacreBLEU's signature of `bleu` and of `chrf` as computed here, e.g.
    `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`: what a score is quoted with, so
    that a reader knows it is comparable with another. A signature names the options and the
    number of references, not the text, so a one-sentence corpus gives it."""
    found = {}
    for name, metric in (("bleu", sacrebleu.metrics.BLEU()), ("chrf", sacrebleu.metrics.CHRF())):
        metric.corpus_score(["a"], [["a"]])  # sacreBLEU knows the reference count once it has scored
        found[name] = str(metric.get_signature())
    return found


def score(hypotheses: Sequence[str], references: Sequence[str],
          tokenize: Callable[[str], list[str]]) -> dict[str, float]:
    """All four scores in one dict (BLEU and chrF on the 0–100 scale, the others 0–1)."""
    return {
        "exact_match": exact_match(hypotheses, references),
        "token_accuracy": token_accuracy(hypotheses, references, tokenize),
        "bleu": bleu(hypotheses, references),
        "chrf": chrf(hypotheses, references),
    }


def distinct(hypotheses: Sequence[str], n: int) -> float:
    """Distinct-n (Li et al., 2016): distinct n-grams over all n-grams, pooled over the outputs.

    1.0 when no n-gram occurs twice; it falls as the outputs repeat themselves or each other.
    """
    grams = [tuple(tokens[i : i + n]) for tokens in map(_tokens, hypotheses) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def top_share(hypotheses: Sequence[str], top: int = TOP_REPLIES) -> float:
    """Share of the outputs that are one of the `top` most frequent outputs (the generic-reply
    trap: a model that answers "I don't know ." to everything scores near 1)."""
    counts = collections.Counter(" ".join(_tokens(h)) for h in hypotheses)
    return sum(count for _, count in counts.most_common(top)) / max(len(hypotheses), 1)


def mean_length(hypotheses: Sequence[str]) -> float:
    """Mean output length in tokens."""
    return sum(len(_tokens(h)) for h in hypotheses) / max(len(hypotheses), 1)


def dialogue_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """What dialogue papers report on generated replies: BLEU, Distinct-1 and -2, mean length,
    and the share of the ten most frequent replies (perplexity needs the model: see `scoring`)."""
    _check(hypotheses, references)
    return {"bleu": bleu(hypotheses, references), "distinct1": distinct(hypotheses, 1),
            "distinct2": distinct(hypotheses, 2), "mean_length": mean_length(hypotheses),
            "top10_share": top_share(hypotheses)}


_TOKENIZE_13A = Tokenizer13a()


def _tokens(text: str) -> list[str]:
    return _TOKENIZE_13A(text.strip()).split()


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
