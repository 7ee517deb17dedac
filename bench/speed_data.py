"""The data sets of bench/speed.py and the FLOPs a training step usefully does on them.

Both toolkits read the same text: tab-separated `source<TAB>target` files whose tokens are
already split by spaces, so that OpenNMT-py (which splits on spaces) and keras-seq2seq (whose
word tokeniser leaves such text as it is) see identical tokens.

- real: `<data-dir>/spa-eng/{train,test}.tsv` (English first, Spanish second; Spanish is the
  source) split with keras-seq2seq's word tokeniser; training pairs with more than 30 tokens on
  either side are dropped; the test file is the first 1,000 test pairs.
- synthetic: random token ids drawn uniformly from `vocab - 4` words per side (so the whole
  vocabulary fits under the cap), source length uniform in 10..30, target as long as its
  source (a length a model can learn to stop at), fixed seed.

Useful training FLOPs (multiply and add counted as 2; padding never counted; S_i and T_i are
the real source and target lengths of pair i, T_i including `<eos>`; E embedding, H units,
V target vocabulary):

    LSTM layer with input size I:       8·H·(I + H)          per token (4 gates, input + recurrent)
    encoder, std (one direction, H):    8·H·(E + H)          per source token
    encoder, att (brnn, 2 × H/2):       8·H·(E + H/2)        per source token
    decoder LSTM, std:                  8·H·(E + H)          per target token
    decoder LSTM, att (input feeding):  8·H·(E + 2H)         per target token
    attention, general (att only):      2·H² (W_a h_t) + 4·H² (tanh W_c[c; h]) per target token,
                                        + 4·H·S_i per target token (scores and context)
    output layer:                       2·H·V                per target token

    Transformer (`tfm`; model size D, feed-forward F, L_e encoder and L_d decoder blocks):
    encoder block:                      8·D² (q, k, v, output) + 4·D·F  per source token,
                                        + 4·D·S_i per source token (scores and context)
    decoder block:                      8·D² (self) + 4·D² (cross q, output) + 4·D·F per target
                                        token, + 4·D² per source token (cross keys and values),
                                        + 4·D·(t+1) at target position t (causal self-attention)
                                        + 4·D·S_i per target token (cross-attention)
    output layer:                       2·D·V                per target token

    training FLOPs = 3 × forward FLOPs  (the backward pass costs about twice the forward)

Summed over the training file, divided by Σ T_i: useful FLOPs per target token, so that useful
GFLOP/s = target tokens/s × that / 1e9. The softmax itself, embeddings, biases and the
optimiser update are left out (a few V per token; small next to 2·H·V).
"""

from __future__ import annotations

import random
from pathlib import Path

MAX_TOKENS = 30          # real training pairs longer than this on either side are dropped
SYNTHETIC_LENGTHS = (10, 30)
SYNTHETIC_SEED = 1234


def write_tsv(path: Path, pairs: list[tuple[list[str], list[str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(" ".join(s) + "\t" + " ".join(t) + "\n" for s, t in pairs), encoding="utf-8")
    tmp.replace(path)


def real_pairs(pair_dir: Path, test_sentences: int) -> dict[str, list[tuple[list[str], list[str]]]]:
    """Word-tokenised (source, target) token lists from a Tatoeba pair folder."""
    from keras_seq2seq.text.tokenizers import WordTokenizer

    tokenizer = WordTokenizer()
    splits = {}
    for split, limit in (("train", None), ("test", test_sentences)):
        pairs = []
        with open(pair_dir / f"{split}.tsv", encoding="utf-8") as handle:
            for line in handle:
                cols = line.rstrip("\n").split("\t")
                if len(cols) < 2:
                    continue
                source, target = tokenizer.tokenize(cols[1]), tokenizer.tokenize(cols[0])
                if split == "train" and not (0 < len(source) <= MAX_TOKENS and 0 < len(target) <= MAX_TOKENS):
                    continue
                pairs.append((source, target))
                if limit and len(pairs) >= limit:
                    break
        splits[split] = pairs
    return splits


def synthetic_pairs(train: int, test: int, vocab: int) -> dict[str, list[tuple[list[str], list[str]]]]:
    """Random pairs: `s<id>` source words, `t<id>` target words, equal lengths in 10..30."""
    rng = random.Random(SYNTHETIC_SEED)
    words = vocab - 4  # <pad> <unk> <bos> <eos> (keras-seq2seq); <unk> <blank> <s> </s> (OpenNMT-py)

    def pair():
        length = rng.randint(*SYNTHETIC_LENGTHS)
        return ([f"s{rng.randrange(words)}" for _ in range(length)],
                [f"t{rng.randrange(words)}" for _ in range(length)])

    return {"train": [pair() for _ in range(train)], "test": [pair() for _ in range(test)]}


def prepare(work: Path, name: str, splits: dict) -> dict:
    """Write `work/<name>/{train,test}.tsv`; return the length statistics the FLOP count needs."""
    for split, pairs in splits.items():
        write_tsv(work / name / f"{split}.tsv", pairs)
    train = splits["train"]
    return {
        "folder": str(work / name), "train_pairs": len(train), "test_pairs": len(splits["test"]),
        "source_tokens": sum(len(s) for s, _ in train),
        "target_tokens": sum(len(t) + 1 for _, t in train),  # + <eos>
        "source_x_target": sum(len(s) * (len(t) + 1) for s, t in train),
        "source_squared": sum(len(s) ** 2 for s, _ in train),
        "target_triangle": sum((len(t) + 1) * (len(t) + 2) // 2 for _, t in train),  # Σ (t + 1), t < T_i
        "max_target_tokens": max(len(t) + 1 for _, t in train),
    }


def flops_per_target_token(stats: dict, attention: bool, embedding: int, units: int, vocab: int) -> float:
    """Useful training FLOPs per real target token (the formula in the module docstring)."""
    E, H, V = embedding, units, vocab
    S, T, ST = stats["source_tokens"], stats["target_tokens"], stats["source_x_target"]
    if attention:
        forward = S * 8 * H * (E + H / 2) + T * (8 * H * (E + 2 * H) + 6 * H * H + 2 * H * V) + 4 * H * ST
    else:
        forward = S * 8 * H * (E + H) + T * (8 * H * (E + H) + 2 * H * V)
    return 3 * forward / T


def transformer_flops_per_target_token(stats: dict, dim: int, ffn: int, encoder_layers: int,
                                       decoder_layers: int, vocab: int) -> float:
    """Useful training FLOPs per real target token of the Transformer (module docstring)."""
    D, F, V = dim, ffn, vocab
    S, T, ST = stats["source_tokens"], stats["target_tokens"], stats["source_x_target"]
    encoder = encoder_layers * (S * (8 * D * D + 4 * D * F) + 4 * D * stats["source_squared"])
    decoder = decoder_layers * (T * (12 * D * D + 4 * D * F) + S * 4 * D * D
                                + 4 * D * stats["target_triangle"] + 4 * D * ST)
    return 3 * (encoder + decoder + T * 2 * D * V) / T
