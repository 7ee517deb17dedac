"""What `evaluate` and `demo` print: a few sample outputs beside their references, then the scores
(translation's, or dialogue's).

The sample table is aligned by display width, not by `len`: a Chinese or Japanese character (East
Asian "wide" or "fullwidth") fills two terminal columns, a combining accent none, so padding by
character count pushed every column after a Chinese cell out of line.
"""

from __future__ import annotations

import unicodedata

COLUMN = 35  # display columns per sample cell (input, output), two spaces between cells


def display_width(text: str) -> int:
    """Terminal columns `text` fills: 2 per wide or fullwidth character, 0 per combining mark."""
    return sum(_char_width(ch) for ch in text)


def fit(text: str, width: int) -> str:
    """`text` cut to at most `width` columns (ending in "…" when cut), padded with spaces to `width`."""
    if display_width(text) > width:
        kept, used = [], 1  # room for the "…"
        for ch in text:
            if used + _char_width(ch) > width:
                break
            kept.append(ch)
            used += _char_width(ch)
        text = "".join(kept) + "…"
    return text + " " * (width - display_width(text))


def print_samples(pairs, hypotheses, count: int) -> None:
    """The first `count` inputs with the output and the reference, marked right or wrong."""
    if count <= 0:
        return
    print(f"\n{fit('input', COLUMN)}  {fit('output', COLUMN)}  reference")
    for pair, hypothesis in list(zip(pairs, hypotheses))[:count]:
        mark = "✓" if hypothesis == pair.target else "✗"
        reference = fit(pair.target, COLUMN).rstrip()
        print(f"{fit(pair.source, COLUMN)}  {fit(hypothesis, COLUMN)}  {reference} {mark}")
    print()


def print_scores(result: dict) -> None:
    print(f"sentences        {result['sentences']:,}")
    print(f"exact match      {result['exact_match']:.3f}")
    print(f"token accuracy   {result['token_accuracy']:.3f}")
    signatures = result.get("signatures") or {}
    print(f"BLEU             {result['bleu']:.1f}" + (f"  {signatures['bleu']}" if "bleu" in signatures else ""))
    print(f"chrF             {result['chrf']:.1f}" + (f"  {signatures['chrf']}" if "chrf" in signatures else ""))
    print(f"decoding         {result['sentences_per_second']:,.0f} sentences/s")


def print_dialogue_scores(result: dict) -> None:
    """Dialogue scores: perplexity of the references, then the generated replies' BLEU and variety."""
    print(f"sentences        {result['sentences']:,}")
    print(f"perplexity       {result['perplexity']:.2f} (reference replies, per token, <eos> included)")
    print(f"BLEU             {result['bleu']:.2f} ({result['signatures']['bleu']})")
    print(f"Distinct-1       {result['distinct1']:.4f} (distinct words / words generated)")
    print(f"Distinct-2       {result['distinct2']:.4f} (distinct word pairs / word pairs generated)")
    print(f"mean length      {result['mean_length']:.1f} tokens")
    print(f"top-10 share     {result['top10_share']:.3f} (replies that are one of the 10 most frequent)")
    print(f"decoding         {result['sentences_per_second']:,.0f} sentences/s")


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
