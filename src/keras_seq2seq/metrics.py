"""Corpus-level scores for generated text: exact match, token accuracy, BLEU and chrF; for
dialogue, also how varied the replies are (Distinct-n, the ten most frequent replies' share).

BLEU and chrF come from sacrebleu with its defaults (13a tokenisation, cased), computed on
detokenised text against the raw references, so our figures compare with other toolkits'.
Chinese output is the exception, scored as WMT scores it: BLEU with sacrebleu's `zh`
tokenisation (each Chinese character a token; 13a would see a whole sentence written without
spaces as one word). The target language is given (`target_lang="zh"`, or a Tatoeba code such as
`cmn`) or, when not, detected from the references; the sacrebleu signature says which was used.
The dialogue scores count tokens as sacrebleu's tokeniser for the target language cuts them
(13a, or `zh` for Chinese), so they too mean the same for any system's output, whatever its own
tokeniser.
"""

from __future__ import annotations

import collections
import re
from typing import Callable, Sequence

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

TOP_REPLIES = 10  # `top_share` counts the outputs taken by this many most frequent replies

# Language codes (ISO 639-1 and Tatoeba's 639-3) whose text is scored with tokenize="zh".
CHINESE_CODES = {"zh", "cmn", "yue", "wuu", "zho", "chi", "zh-cn", "zh-tw", "zh-hans", "zh-hant"}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# References whose non-space characters are at least this share Han are Chinese (Tatoeba's
# Chinese side: 0.9; its English side: 0).
CHINESE_SHARE = 0.3


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


def is_chinese(lang: str | None) -> bool:
    """Whether a language code (e.g. "zh", "cmn", "zh-TW") names Chinese."""
    return (lang or "").strip().lower() in CHINESE_CODES


def detect_language(texts: Sequence[str]) -> str | None:
    """"zh" when `texts` are mostly Chinese characters, else None (scored with the defaults)."""
    letters = sum(len(text) - text.count(" ") for text in texts)
    han = sum(len(_HAN.findall(text)) for text in texts)
    return "zh" if letters and han / letters >= CHINESE_SHARE else None


def bleu_tokenization(target_lang: str | None) -> str:
    """sacrebleu's tokeniser for a target language: "zh" for Chinese, else its default "13a"."""
    return "zh" if is_chinese(target_lang) else "13a"


def bleu(hypotheses: Sequence[str], references: Sequence[str], target_lang: str | None = None) -> float:
    _check(hypotheses, references)
    if is_chinese(target_lang):
        return BLEU(tokenize="zh").corpus_score(list(hypotheses), [list(references)]).score
    return sacrebleu.corpus_bleu(list(hypotheses), [list(references)]).score


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    _check(hypotheses, references)
    return sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score


def signatures(target_lang: str | None = None) -> dict[str, str]:
    """sacreBLEU's signature of `bleu` and of `chrf` as computed here for `target_lang`, e.g.
    `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0` (`tok:zh` for Chinese): what a
    score is quoted with, so that a reader knows it is comparable with another. A signature names
    the options and the number of references, not the text, so a one-sentence corpus gives it."""
    found = {}
    for name, metric in (("bleu", BLEU(tokenize=bleu_tokenization(target_lang))), ("chrf", CHRF())):
        metric.corpus_score(["a"], [["a"]])  # sacreBLEU knows the reference count once it has scored
        found[name] = str(metric.get_signature())
    return found


def score(hypotheses: Sequence[str], references: Sequence[str],
          tokenize: Callable[[str], list[str]], target_lang: str | None = None) -> dict:
    """All four scores in one dict (BLEU and chrF on the 0–100 scale, the others 0–1), with the
    target language they were scored for (given, or detected from the references) and the
    sacrebleu signatures."""
    target_lang = target_lang or detect_language(references)
    return {
        "exact_match": exact_match(hypotheses, references),
        "token_accuracy": token_accuracy(hypotheses, references, tokenize),
        "bleu": bleu(hypotheses, references, target_lang),
        "chrf": chrf(hypotheses, references),
        "target_lang": target_lang,
        "signatures": signatures(target_lang),
    }


def distinct(hypotheses: Sequence[str], n: int, target_lang: str | None = None) -> float:
    """Distinct-n (Li et al., 2016): distinct n-grams over all n-grams, pooled over the outputs.

    1.0 when no n-gram occurs twice; it falls as the outputs repeat themselves or each other.
    Chinese outputs (`target_lang`) are counted in characters, as BLEU's `zh` tokenisation cuts them.
    """
    grams = [tuple(tokens[i : i + n]) for tokens in (_tokens(h, target_lang) for h in hypotheses)
             for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def top_share(hypotheses: Sequence[str], top: int = TOP_REPLIES, target_lang: str | None = None) -> float:
    """Share of the outputs that are one of the `top` most frequent outputs (the generic-reply
    trap: a model that answers "I don't know ." to everything scores near 1)."""
    counts = collections.Counter(" ".join(_tokens(h, target_lang)) for h in hypotheses)
    return sum(count for _, count in counts.most_common(top)) / max(len(hypotheses), 1)


def mean_length(hypotheses: Sequence[str], target_lang: str | None = None) -> float:
    """Mean output length in tokens (characters for Chinese)."""
    return sum(len(_tokens(h, target_lang)) for h in hypotheses) / max(len(hypotheses), 1)


def dialogue_scores(hypotheses: Sequence[str], references: Sequence[str], target_lang: str | None = None) -> dict:
    """What dialogue papers report on generated replies: BLEU, Distinct-1 and -2, mean length,
    and the share of the ten most frequent replies (perplexity needs the model: see `scoring`);
    with the target language (given, or detected from the references, as `score` does) and
    BLEU's sacreBLEU signature."""
    _check(hypotheses, references)
    target_lang = target_lang or detect_language(references)
    return {"bleu": bleu(hypotheses, references, target_lang), "distinct1": distinct(hypotheses, 1, target_lang),
            "distinct2": distinct(hypotheses, 2, target_lang), "mean_length": mean_length(hypotheses, target_lang),
            "top10_share": top_share(hypotheses, target_lang=target_lang), "target_lang": target_lang,
            "signatures": {"bleu": signatures(target_lang)["bleu"]}}


_TOKENIZERS = {"13a": Tokenizer13a(), "zh": TokenizerZh()}


def _tokens(text: str, target_lang: str | None = None) -> list[str]:
    """`text` cut as sacreBLEU's BLEU tokeniser for `target_lang` cuts it (13a, or zh for Chinese)."""
    return _TOKENIZERS[bleu_tokenization(target_lang)](text.strip()).split()


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
