"""Alignments: which source tokens the model looked at while it wrote each output token.

An attention model computes, at every output step, a distribution over the source positions
(`layers/attention.py`). Collected over a whole output, those rows form a soft alignment
matrix, `output tokens x source tokens`. It is useful twice:

- to *look at* (`plotting.py` draws it as a heat map; the web server shows the same matrix), and
- to *repair unknown words*: where the model wrote `<unk>`, the source token it attended to most
  is usually the word it could not translate (a name, a number, a rare word), so copying that
  word is better than printing `<unk>` (Luong et al., 2015, "Addressing the Rare Word Problem").

    >>> alignment = translator.align(["¿Dónde está Tom?"])[0]
    >>> alignment.source_tokens, alignment.target_tokens
    (['¿', 'Dónde', 'está', 'Tom', '?'], ['Where', 'is', 'Tom', '?', '<eos>'])
    >>> alignment.weights.shape        # one row per target token, one column per source token
    (5, 5)

Target tokens end with `<eos>` when the model produced it: that step has attention weights too,
and showing it tells a reader the sentence ended rather than ran out of length. `text` never
contains it. Padding is never part of either side.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Sequence

import numpy as np

from keras_seq2seq.bundle import ModelBundle
from keras_seq2seq.search.options import SearchOptions
from keras_seq2seq.text.factory import tokenizer_from_config
from keras_seq2seq.text.tokenizers import Tokenizer
from keras_seq2seq.text.vocabulary import BOS_ID, EOS, EOS_ID, PAD_ID, UNK_ID

if TYPE_CHECKING:  # the ONNX runtime uses this module's plain parts and must not load Keras
    from keras_seq2seq.generation import Generation


@dataclasses.dataclass(eq=False)  # `==` on numpy weights would be ambiguous
class Alignment:
    """One output sentence and the attention that produced it.

    Attributes:
        source_tokens: the source as the model saw it: the source tokeniser's tokens
            (normalised, lowercased if the model lowercases), without padding.
        target_tokens: the output tokens, ending with `"<eos>"` if the model produced it (not
            when it hit the length limit). With `replace_unk`, copied source words stand where
            the model wrote `<unk>`.
        weights: `len(target_tokens) x len(source_tokens)` float32; row `t` is the attention
            at the step that wrote `target_tokens[t]` and sums to 1.
        text: the detokenised output (what `Translator.translate` returns).
        score: the hypothesis's score (summed log-probability, length-normalised under beam
            search with a length penalty).
        replaced: positions in `target_tokens` where `<unk>` was replaced by a source word.
    """

    source_tokens: list[str]
    target_tokens: list[str]
    weights: np.ndarray
    text: str
    score: float = 0.0
    replaced: list[int] = dataclasses.field(default_factory=list)


def n_best_alignments(bundle: ModelBundle, generation: "Generation", texts: Sequence[str],
                      options: SearchOptions, batch_size: int | None = None) -> list[list[Alignment]]:
    """For every text, its `options.n_best` hypotheses as `Alignment`s, best first.

    Decodes exactly like `Translator.translate_n_best` (same batches, same search), with the
    attention weights collected inside the compiled loop. Raises `Seq2SeqError` for a model
    without attention. With `options.replace_unk`, unknown words are copied from the source.
    """
    if isinstance(texts, str):
        raise TypeError("align() takes a list of strings; wrap a single string in a list")
    results: list[list[Alignment]] = [[] for _ in texts]
    for i, (ids, scores, attention) in generation.rows(texts, options.replace(attention=True), batch_size):
        source_tokens = bundle.source_tokenizer.tokenize(texts[i])
        surface = surface_tokens(bundle.source_tokenizer, texts[i]) if options.replace_unk else None
        results[i] = [
            hypothesis_alignment(ids[n], attention[n], source_tokens, float(scores[n]), surface,
                                 bundle.target_vocab, bundle.target_tokenizer)
            for n in range(options.n_best)
        ]
    return results


def hypothesis_alignment(ids: np.ndarray, attention: np.ndarray, source_tokens: list[str], score: float,
                         surface: list[str] | None, vocab, tokenizer: Tokenizer) -> Alignment:
    """One hypothesis: `ids` is `max_length`, `attention` is `max_length x padded src_len`;
    `vocab` and `tokenizer` are the target side's (the Keras model's or an ONNX export's)."""
    steps, tokens = [], []
    for step, token_id in enumerate(ids.tolist()):
        if token_id in (PAD_ID, BOS_ID):  # never real outputs; `Vocabulary.decode` drops them too
            continue
        steps.append(step)
        tokens.append(EOS if token_id == EOS_ID else vocab.id_to_token(token_id))
        if token_id == EOS_ID:
            break
    # target x source: the real source columns only (padding has weight 0 anyway).
    weights = attention[steps][:, : len(source_tokens)].astype(np.float32)
    replaced = []
    if surface is not None:
        tokens, replaced = replace_unknowns(tokens, [ids[s] for s in steps], weights, surface)
    ended = bool(steps) and ids[steps[-1]] == EOS_ID
    text = tokenizer.detokenize(tokens[:-1] if ended else list(tokens))
    return Alignment(source_tokens, tokens, weights, text, score, replaced)


def replace_unknowns(tokens: list[str], ids: Sequence[int], weights: np.ndarray,
                     source: list[str]) -> tuple[list[str], list[int]]:
    """Every `<unk>` output replaced by the source token with the highest weight at its step.

    Args:
        tokens: output tokens; `ids` their ids (an `<unk>` is recognised by id, so a real
            word spelt "<unk>" in a corpus is left alone).
        weights: `len(tokens) x len(source)` attention.
        source: the source tokens to copy from, in their original spelling.

    Returns the new tokens and the positions that were replaced.
    """
    tokens = list(tokens)
    replaced = []
    if not source:
        return tokens, replaced
    for t, token_id in enumerate(ids):
        if int(token_id) == UNK_ID:
            tokens[t] = source[int(np.argmax(weights[t, : len(source)]))]
            replaced.append(t)
    return tokens, replaced


def surface_tokens(tokenizer: Tokenizer, text: str) -> list[str]:
    """The source tokens in their original case, one per model token.

    A lowercasing model sees "tom"; the word worth copying into the output is "Tom". We
    tokenise again without lowercasing and use that if it splits the same way (it always does
    for the word and char tokenisers, except for the rare letters whose lowercase has another
    length); otherwise the model's own tokens are returned.
    """
    tokens = tokenizer.tokenize(text)
    if not getattr(tokenizer, "lowercase", False) or tokenizer.kind not in ("word", "char"):
        return tokens
    cased = tokenizer_from_config({**tokenizer.get_config(), "lowercase": False}).tokenize(text)
    if len(cased) == len(tokens) and all(c.lower() == t for c, t in zip(cased, tokens)):
        return cased
    return tokens
