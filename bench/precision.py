"""Training step speed per Keras dtype policy: float32 against mixed bfloat16 (and float16).

    .venv/bin/python bench/precision.py [--policies float32,mixed_bfloat16] [--steps 20]

The library's `Seq2Seq` at the "std" size (vocabulary 8k/8k, embedding 256, one LSTM layer of 512
units each side; `--attention` adds a bidirectional encoder and Luong attention), one fixed
random batch of 64 sentences (source 16, target 12 tokens), `train_on_batch` with the loss and
Adam of `seq2seq train`. The policies take turns step by step, so machine noise hits them alike.
Prints median ms per step, target tokens/s and the ratio to float32. Last line:
`precision: mixed_bfloat16=0.62x` (tokens/s relative to float32). On a CPU without bf16 matrix
units, mixed precision is expected to be slower; it is there for GPUs and TPUs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", default="float32,mixed_bfloat16")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per policy (after 2 untimed)")
    parser.add_argument("--attention", action="store_true")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from keras_seq2seq.models import MaskedCrossEntropy, Seq2Seq

    batch, src_len, tgt_len, vocab = 64, 16, 12, 8000
    rng = np.random.default_rng(0)
    source = rng.integers(4, vocab, (batch, src_len)).astype("int32")
    target_in = rng.integers(4, vocab, (batch, tgt_len)).astype("int32")
    target_out = rng.integers(4, vocab, (batch, tgt_len)).astype("int32")
    models = {}
    for policy in args.policies.split(","):
        model = Seq2Seq(vocab, vocab, embedding_dim=256, units=512, dtype=policy,
                        attention="luong-general" if args.attention else "none", bidirectional=args.attention)
        model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss=MaskedCrossEntropy())
        for _ in range(2):
            model.train_on_batch((source, target_in), target_out)
        models[policy] = model
    times = {policy: [] for policy in models}
    for _ in range(args.steps):
        for policy, model in models.items():
            started = time.perf_counter()
            model.train_on_batch((source, target_in), target_out)
            times[policy].append(time.perf_counter() - started)
    base = None
    print("| policy | ms/step | target tok/s | vs float32 |\n|---|---|---|---|")
    rates = {}
    for policy, seconds in times.items():
        step = statistics.median(seconds)
        rates[policy] = batch * tgt_len / step
        base = base or rates.get("float32")
        print(f"| {policy} | {step * 1e3:.0f} | {rates[policy]:,.0f} | "
              f"{rates[policy] / base:.2f}x |" if base else f"| {policy} | {step * 1e3:.0f} | {rates[policy]:,.0f} | |")
    if "float32" in rates:
        print("precision: " + " ".join(f"{p}={r / rates['float32']:.2f}x" for p, r in rates.items() if p != "float32"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
