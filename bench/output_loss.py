"""The output layer and loss, forward and backward: the library's loss against a log-softmax one.

    .venv/bin/python bench/output_loss.py                  # 2,048 positions, 256 units, 9,700 words

The output layer and the cross-entropy are about half of a training step for word-level models
(a `positions x units` by `units x vocab` product, then a softmax over the vocabulary). This
times one jitted value-and-gradient of (matmul + loss) for:
  - `log-softmax`: the textbook form, log_softmax then pick the target, smoothing on log-probs;
  - `library`: `MaskedCrossEntropy` (logsumexp minus the picked logit; no stored log-softmax);
  - `matmul only`: the product alone, the floor.
It checks that both losses and their gradients agree, and prints medians over interleaved
repeats and the ratio (the machine is shared: compare ratios, not absolute times).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ["KERAS_BACKEND"] = "jax"
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from keras_seq2seq.models import MaskedCrossEntropy  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=2048)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=9700)
    parser.add_argument("--smoothing", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((args.positions, args.units), np.float32))
    w = jnp.asarray(rng.standard_normal((args.units, args.vocab), np.float32) * 0.05)
    y = jnp.asarray(rng.integers(1, args.vocab, args.positions).astype(np.int32)).at[: args.positions // 7].set(0)
    eps = args.smoothing
    library = MaskedCrossEntropy(label_smoothing=eps)

    def log_softmax_loss(w, x, y):
        logits = ops.matmul(x, w)
        mask = ops.cast(ops.not_equal(y, 0), "float32")
        log_probs = ops.log_softmax(logits, axis=-1)
        picked = ops.take_along_axis(log_probs, ops.expand_dims(y, -1), axis=-1)[..., 0]
        nll = -(1 - eps) * picked - eps * ops.mean(log_probs, axis=-1)
        return ops.sum(nll * mask) / ops.maximum(ops.sum(mask), 1.0)

    def library_loss(w, x, y):
        return library.call(y, ops.matmul(x, w))

    def matmul_only(w, x, y):
        return ops.sum(ops.matmul(x, w))

    variants = {"log-softmax": log_softmax_loss, "library": library_loss, "matmul only": matmul_only}
    compiled = {name: jax.jit(jax.value_and_grad(f, argnums=(0, 1))) for name, f in variants.items()}
    a, b = compiled["log-softmax"](w, x, y), compiled["library"](w, x, y)
    print(f"loss {float(a[0]):.6f} vs {float(b[0]):.6f}; largest gradient difference "
          f"{float(jnp.max(jnp.abs(a[1][0] - b[1][0]))):.2e}")
    times: dict[str, list[float]] = {name: [] for name in compiled}
    for f in compiled.values():
        jax.block_until_ready(f(w, x, y))
    for _ in range(args.repeats):
        for name, f in compiled.items():
            start = time.perf_counter()
            jax.block_until_ready(f(w, x, y))
            times[name].append(time.perf_counter() - start)
    for name, values in times.items():
        print(f"{name:<12} median {np.median(values) * 1000:8.1f} ms")
    ratio = np.median(times["log-softmax"]) / np.median(times["library"])
    print(f"output_loss: log_softmax_over_library={ratio:.2f}x")


if __name__ == "__main__":
    main()
