"""Corpus-level scores for generated text: exact match, token accuracy, BLEU and chrF.

BLEU and chrF come from sacrebleu with its defaults (13a tokenisation, cased), computed on
detokenised text against the raw references, so our figures compare with other toolkits'.
"""

from __future__ import annotations

from typing import Callable, Sequence

import sacrebleu


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


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
