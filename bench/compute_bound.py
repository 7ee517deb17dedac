"""How fast could the speed benchmark's "std" model train and decode on this machine at all?

The bound its matrix products (and, in training, its optimiser) set. Training: each product of
one step (forward and both backward products, at the benchmark's batch and mean sentence
lengths, no padding) and one Adam update of the model's weights, timed alone in XLA, summed.
Everything else a step does (the LSTM gates, softmax and cross-entropy over the vocabulary,
embedding gathers and their gradients, clipping, padding) is left out, so no implementation can
beat the bound with these products on this CPU. Beside it, in the same process and alternating
with it, the model's real training step on batches with no padding at all, at the two integer
lengths around the means. Greedy decoding: the encoder's forward products over the test
sources' mean length and, per output token, the decoder's input, recurrent and output products
at batch 64, full vocabulary and a 2,048-word shortlist; every sentence decodes exactly its own
length. A fair question to ask of a throughput goal before chasing it:

    .venv/bin/python bench/compute_bound.py --repeats 5
    .venv/bin/python bench/compute_bound.py --speed-json bench/results/speed-quick-r3.json

The data default is bench/speed.py's tokenised spa-eng files (bench/results/speed/real, written
by a run of bench/speed.py). Shares are of the float32 2048³ matmul peak measured in this run
(the larger of numpy's and XLA's, as bench/speed.py measures it). With `--speed-json` (an
earlier bench/speed.py result) the decoding bound uses the peer's mean greedy output length
(shorter than ours, so a higher bound) and the last line says what 1.5x the peer's training
share and 3x its greedy sentences/s in that run would need. The recurrent weights' gradient is
counted as one product over all steps (the cheapest way to form it), the recurrent products of
forward and backward as one per step (they are sequential).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import statistics
import sys
import time
from pathlib import Path

import keras_seq2seq  # noqa: F401  first: JAX by default and the allocator settings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from speed_data import flops_per_target_token  # noqa: E402
from speed_ours import matmul_peak, read_tsv  # noqa: E402

ALL_STEPS_ROWS = 8  # the all-steps products are timed at batch x 8 rows and scaled per token


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE / "results" / "speed" / "real",
                        help="folder with tokenised train.tsv and test.tsv (source<TAB>target)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating rounds; medians are reported")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--shortlist", type=int, default=2048, help="decoding bound also at this vocabulary")
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--speed-json", type=Path, help="a bench/speed.py result: compare with its peer")
    return parser.parse_args(argv)


def mean_lengths(path: Path) -> tuple[float, float]:
    """Mean source tokens and mean target tokens (+ <eos>), as bench/speed_data.py counts them."""
    if not path.is_file():
        raise SystemExit(f"{path}: no such file; run bench/speed.py --quick once (it writes it), or pass "
                         "--data with a folder holding train.tsv and test.tsv")
    pairs = read_tsv(path)
    if not pairs:
        raise SystemExit(f"{path}: no source<TAB>target lines")
    return (sum(len(s.split()) for s, _ in pairs) / len(pairs),
            sum(len(t.split()) + 1 for _, t in pairs) / len(pairs))


@functools.lru_cache(maxsize=None)
def _sixteen_products(m: int, k: int, n: int):
    """A compiled function doing 16 (m, k) @ (k, n) products (inputs varied), and its inputs."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.random((m, k), dtype=np.float32))
    b = jnp.asarray(rng.random((k, n), dtype=np.float32))

    @jax.jit
    def sixteen(a, b):
        body = lambda i, total: total + (a + i.astype(a.dtype) * 1e-7) @ b  # noqa: E731
        return jax.lax.fori_loop(0, 16, body, jnp.zeros((m, n), jnp.float32))

    sixteen(a, b).block_until_ready()
    return sixteen, a, b


def product_seconds(m: int, k: int, n: int, rounds: int = 5) -> float:
    """Median seconds of one float32 (m, k) @ (k, n) product in XLA."""
    sixteen, a, b = _sixteen_products(m, k, n)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        sixteen(a, b).block_until_ready()
        times.append((time.perf_counter() - started) / 16)
    return statistics.median(times)


def adam_seconds(shapes: list[tuple[int, ...]], rounds: int = 5) -> float:
    """Median seconds of one Adam update with global-norm clipping over weights of these shapes."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    weights = [jnp.asarray(rng.random(s, dtype=np.float32)) for s in shapes]
    grads = [w * 0.01 for w in weights]
    moments = [jnp.zeros_like(w) for w in weights]
    squares = [jnp.zeros_like(w) for w in weights]

    def update(weights, moments, squares, grads):
        scale = jnp.minimum(1.0, 1.0 / jnp.sqrt(sum(jnp.sum(g * g) for g in grads)))
        out = ([], [], [])
        for w, m, v, g in zip(weights, moments, squares, grads):
            g = g * scale
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            for part, value in zip(out, (w - 1e-3 * m / (jnp.sqrt(v) + 1e-7), m, v)):
                part.append(value)
        return out

    update = jax.jit(update, donate_argnums=(0, 1, 2))
    weights, moments, squares = update(weights, moments, squares, grads)
    jax.block_until_ready(weights)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        weights, moments, squares = update(weights, moments, squares, grads)
        jax.block_until_ready(weights)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bound_parts(args, shapes: list[tuple[int, ...]]) -> dict:
    """Seconds per source token, per target token (whole batch) and per step (Adam)."""
    B, E, H, V, L = args.batch_size, args.embedding, args.units, args.vocab, ALL_STEPS_ROWS
    gates = 4 * H
    inputs = (product_seconds(B * L, E, gates) + product_seconds(B * L, gates, E)
              + product_seconds(E, B * L, gates)) / L                       # x W, its dx and dW
    recurrent = (product_seconds(B, H, gates) + product_seconds(B, gates, H)
                 + product_seconds(H, B * L, gates) / L)                    # h U, dh per step; dU once
    output = (product_seconds(B * L, H, V) + product_seconds(B * L, V, H)
              + product_seconds(H, B * L, V)) / L                           # h W_o, dh, dW_o
    encode = product_seconds(B * L, E, gates) / L + product_seconds(B, H, gates)
    decode = product_seconds(B, E, gates) + product_seconds(B, H, gates)
    return {"source_token": inputs + recurrent, "target_token": inputs + recurrent + output,
            "adam": adam_seconds(shapes), "encode_token": encode,
            "decode_token": decode + product_seconds(B, H, V),
            "decode_token_shortlist": decode + product_seconds(B, H, args.shortlist)}


def useful_flops(args, source: float, target: float) -> float:
    """bench/speed_data.py's useful training FLOPs of one batch (std: no attention)."""
    lengths = {"source_tokens": source, "target_tokens": target, "source_x_target": source * target}
    per_token = flops_per_target_token(lengths, False, args.embedding, args.units, args.vocab)
    return per_token * target * args.batch_size


def build_step(args, shapes_st: list[tuple[int, int]]):
    """The std model compiled as training compiles it; one no-padding batch per (S, T)."""
    import keras
    import numpy as np

    from keras_seq2seq.models import MaskedAccuracy, MaskedCrossEntropy, Seq2Seq

    keras.utils.set_random_seed(0)
    model = Seq2Seq(args.vocab, args.vocab, embedding_dim=args.embedding, units=args.units,
                    num_layers=1, dropout=0.0, attention="none", bidirectional=False)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, global_clipnorm=1.0),
                  loss=MaskedCrossEntropy(), metrics=[MaskedAccuracy()])
    rng = np.random.default_rng(0)
    batches = {}
    for S, T in shapes_st:  # ids from 4 up: no padding id anywhere
        ids = lambda n: rng.integers(4, args.vocab, (args.batch_size, n)).astype("int32")  # noqa: E731
        batches[(S, T)] = ((ids(S), ids(T)), ids(T))
        for _ in range(3):  # compile and settle
            model.train_on_batch(*batches[(S, T)])
    return model, batches


def step_seconds(model, batch, calls: int = 10) -> float:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        model.train_on_batch(*batch)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report_training(args, part: dict, peak: float, shapes_st, steps: dict, source: float, target: float) -> dict:
    """Print the real step against the bound per measured shape and at the mean lengths; return the latter."""
    print(f"{'lengths S x T':<22}{'step ms':>10}{'bound ms':>10}{'step tok/s':>12}{'bound tok/s':>13}"
          f"{'step share':>12}{'bound share':>13}")
    rows = [(f"{S} x {T}", S, T, statistics.median(steps[(S, T)])) for S, T in shapes_st]
    # The mean lengths lie between the two measured shapes: the real step interpolated there.
    (_, S0, T0, t0), (_, _, _, t1) = rows
    between = ((source - S0) + (target - T0)) / 2
    rows.append((f"{source:.2f} x {target:.2f}", source, target, t0 + (t1 - t0) * between))
    for label, S, T, step in rows:
        bound = S * part["source_token"] + T * part["target_token"] + part["adam"]
        flops = useful_flops(args, S, T)
        figures = {"step_tok_s": args.batch_size * T / step, "bound_tok_s": args.batch_size * T / bound,
                   "step_share": flops / step / peak, "bound_share": flops / bound / peak}
        print(f"{label:<22}{step * 1e3:>10.1f}{bound * 1e3:>10.1f}{figures['step_tok_s']:>12,.0f}"
              f"{figures['bound_tok_s']:>13,.0f}{figures['step_share']:>12.2f}{figures['bound_share']:>13.2f}")
    return figures  # the mean lengths' row


def report_greedy(args, part: dict, source: float, output: float, whose: str) -> dict:
    """Print and return the greedy sentences/s bound, full vocabulary and shortlist."""
    print(f"\ngreedy decoding bound, batch {args.batch_size}: {source:.2f} source tokens, {output:.2f} "
          f"output tokens (+<eos>, {whose}) per sentence")
    greedy = {}
    for name, label, key in (("full", "full vocabulary", "decode_token"),
                             ("shortlist", f"shortlist {args.shortlist}", "decode_token_shortlist")):
        batch = source * part["encode_token"] + output * part[key]
        greedy[name] = args.batch_size / batch
        print(f"  {label:<18} {batch * 1e3:6.1f} ms per batch  {greedy[name]:8,.0f} sentences/s")
    return greedy


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    source, target = mean_lengths(args.data / "train.tsv")
    test_source, test_target = mean_lengths(args.data / "test.tsv")
    peer = {}
    if args.speed_json:
        peer = json.loads(args.speed_json.read_text())["medians"]["std/real"]["peer"]
    output = peer["greedy_mean_length"] + 1 if peer else test_target  # + <eos>
    shapes_st = [(int(source), int(target)), (int(source) + 1, int(target) + 1)]
    print(f"data: {args.data}/train.tsv: mean source {source:.2f} tokens, target {target:.2f} (+<eos>); "
          f"batch {args.batch_size}, std model (vocab {args.vocab}, embedding {args.embedding}, "
          f"LSTM {args.units})", flush=True)
    model, batches = build_step(args, shapes_st)
    weight_shapes = [tuple(v.shape) for v in model.trainable_variables]
    print(f"model: {sum(math.prod(s) for s in weight_shapes) / 1e6:.1f} M weights", flush=True)
    peaks, parts, steps = [], [], {st: [] for st in shapes_st}
    for round_ in range(args.repeats):
        peaks.append(matmul_peak(repeats=5)["gflops"])
        for st, batch in batches.items():
            steps[st].append(step_seconds(model, batch))
        parts.append(bound_parts(args, weight_shapes))
        print(f"round {round_ + 1}/{args.repeats}: peak {peaks[-1]:.0f} GFLOP/s, step "
              + ", ".join(f"{S}x{T} {v[-1] * 1e3:.1f} ms" for (S, T), v in steps.items()), flush=True)
    peak = statistics.median(peaks) * 1e9
    part = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
    print(f"\nbound parts (medians): per source token {part['source_token'] * 1e3:.2f} ms, per target token "
          f"{part['target_token'] * 1e3:.2f} ms (whole batch), Adam {part['adam'] * 1e3:.1f} ms per step")
    training = report_training(args, part, peak, shapes_st, steps, source, target)
    greedy = report_greedy(args, part, test_source, output, "the peer's mean" if peer else "the references")
    line = (f"bound: peak_gflops={peak / 1e9:.0f} step_tok_s={training['step_tok_s']:.0f} "
            f"bound_tok_s={training['bound_tok_s']:.0f} step_share={training['step_share']:.2f} "
            f"bound_share={training['bound_share']:.2f} greedy_bound={greedy['full']:.0f} "
            f"greedy_shortlist_bound={greedy['shortlist']:.0f}")
    if peer:
        line += (f" peer_share={peer['peak_share']:.2f} share_for_1.5x={1.5 * peer['peak_share']:.2f}"
                 f" greedy_for_3x={3 * peer['greedy_sentences_per_second']:.0f}")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
