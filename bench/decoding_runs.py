"""What the decoding benchmarks share: their arguments, the model and sentences, one timed pass.

`bench/beam_stopping.py` and `bench/shedding.py` compare two searches on one trained model; both
decode the same sources the way `translate` does (length-sorted batches) and keep each
sentence's best hypothesis to check the two agree.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser, repeats: int) -> None:
    """The model, the sentences and the timing options (each script adds its own searches)."""
    parser.add_argument("--model", type=Path, required=True, help="a trained model directory")
    parser.add_argument("--data", type=Path, required=True, help="TSV of sentence pairs (sources are decoded)")
    parser.add_argument("--source-lang", help="source language of an Anki/Tatoeba TSV (e.g. spa)")
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=repeats)


def load(args) -> tuple[object, list[str]]:
    """`(translator, sources)`: the saved model and the first `--sentences` sources of `--data`."""
    from keras_seq2seq import Translator
    from keras_seq2seq.data.corpus import read_corpus

    translator = Translator.load(args.model)
    sources = [pair.source for pair in read_corpus(args.data, source_lang=args.source_lang)][: args.sentences]
    return translator, sources


def timed_pass(translator, sources: list[str], generator, batch_size: int) -> tuple[float, list[list[int]]]:
    """Seconds to decode every source with `generator`, and each sentence's best token ids."""
    best: list[list[int]] = [[] for _ in sources]
    started = time.perf_counter()
    for i, (ids, _scores) in translator.generate_rows(sources, generator, batch_size):
        best[i] = ids[0].tolist()
    return time.perf_counter() - started, best
