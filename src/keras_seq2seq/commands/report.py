"""What `evaluate` and `demo` print: a few sample outputs beside their references, then the scores
(translation's, or dialogue's)."""

from __future__ import annotations


def print_samples(pairs, hypotheses, count: int) -> None:
    """The first `count` inputs with the output and the reference, marked right or wrong."""
    if count <= 0:
        return
    print(f"\n{'input':<36} {'output':<36} reference")
    for pair, hypothesis in list(zip(pairs, hypotheses))[:count]:
        mark = "✓" if hypothesis == pair.target else "✗"
        print(f"{_cut(pair.source):<36} {_cut(hypothesis):<36} {_cut(pair.target)} {mark}")
    print()


def print_scores(result: dict) -> None:
    print(f"sentences        {result['sentences']:,}")
    print(f"exact match      {result['exact_match']:.3f}")
    print(f"token accuracy   {result['token_accuracy']:.3f}")
    signatures = result.get("signatures") or {}
    print(f"BLEU             {result['bleu']:.1f}" + (f"  {signatures['bleu']}" if "bleu" in signatures else ""))
    print(f"chrF             {result['chrf']:.1f}" + (f"  {signatures['chrf']}" if "chrf" in signatures else ""))
    print(f"decoding         {result['sentences_per_second']:,.0f} sentences/s")


def _cut(text: str, width: int = 35) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


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
