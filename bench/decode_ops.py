"""The per-step reductions of decoding, old form against the library's (search/ranking.py).

    .venv/bin/python bench/decode_ops.py [--vocab 9921] [--batch 64] [--beam 5] [--repeats 30]

Each pair is compiled by XLA (JAX backend) and timed on the same random logits, alternating, so
machine noise hits both alike; medians in ms and the speed-up are printed:
- greedy pick: `ops.argmax` over `batch x vocab` against `argmax_last` (max, then first index);
- beam pick: log-softmax of `batch*beam x vocab` and top-k over `beam x vocab` per sentence
  (the old search) against `best_extensions` (top-k per hypothesis, then over `beam x beam`);
- accuracy: argmax over `batch x 12 x vocab` against max-and-gather (`MaskedAccuracy`).
Last line: `decode_ops: greedy_pick=3.1x beam_pick=1.9x accuracy=2.5x`.
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
    parser.add_argument("--vocab", type=int, default=9921, help="target vocabulary (spa-eng 2x256 model: 9,921)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)

    import jax
    import numpy as np
    from keras import ops

    from keras_seq2seq.search.ranking import argmax_last, best_extensions

    b, k, v = args.batch, args.beam, args.vocab
    rng = np.random.default_rng(0)
    greedy_logits = jax.numpy.asarray(rng.standard_normal((b, v), dtype=np.float32))
    beam_logits = jax.numpy.asarray(rng.standard_normal((b * k, v), dtype=np.float32))
    scores = jax.numpy.asarray(rng.standard_normal((b, k), dtype=np.float32))
    finished = jax.numpy.asarray(rng.random((b, k)) < 0.2)
    seq_logits = jax.numpy.asarray(rng.standard_normal((b, 12, v), dtype=np.float32))
    targets = jax.numpy.asarray(rng.integers(1, v, (b, 12)).astype(np.int32))

    def old_beam(logits, scores, finished):
        log_probs = ops.reshape(ops.log_softmax(logits, axis=-1), (b, k, v))
        pad_only = ops.where(ops.arange(v) == 0, 0.0, -1e9)
        log_probs = ops.where(ops.expand_dims(finished, -1), pad_only, log_probs)
        found, picked = ops.top_k(ops.reshape(ops.expand_dims(scores, -1) + log_probs, (b, k * v)), k)
        return found, picked // v, picked % v

    pairs = {
        "greedy_pick": ((lambda x: ops.argmax(x, axis=-1)), argmax_last, (greedy_logits,)),
        "beam_pick": (old_beam, lambda x, s, f: best_extensions(x, s, f, k), (beam_logits, scores, finished)),
        "accuracy": ((lambda x, y: ops.sum(ops.cast(ops.equal(ops.cast(ops.argmax(x, -1), "int32"), y), "float32"))),
                     (lambda x, y: ops.sum(ops.cast(ops.take_along_axis(x, ops.expand_dims(y, -1), -1)[..., 0]
                                                    >= ops.max(x, -1), "float32"))),
                     (seq_logits, targets)),
    }
    ratios = {}
    print(f"decode_ops: batch {b}, beam {k}, vocab {v:,}; medians of {args.repeats} alternating runs\n")
    print("| reduction | old ms | library ms | speed-up |\n|---|---|---|---|")
    for name, (old, new, inputs) in pairs.items():
        compiled = [jax.jit(old), jax.jit(new)]
        for fn in compiled:
            jax.block_until_ready(fn(*inputs))
        times = [[], []]
        for _ in range(args.repeats):
            for i, fn in enumerate(compiled):
                started = time.perf_counter()
                jax.block_until_ready(fn(*inputs))
                times[i].append(time.perf_counter() - started)
        old_ms, new_ms = (statistics.median(t) * 1e3 for t in times)
        ratios[name] = old_ms / new_ms
        print(f"| {name} | {old_ms:.2f} | {new_ms:.2f} | {ratios[name]:.2f}x |")
    print("\ndecode_ops: " + " ".join(f"{name}={r:.1f}x" for name, r in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
