"""keras-seq2seq's side of bench/speed.py: one configuration, one process, figures as JSON.

Run by bench/speed.py in the project venv, one fresh process per (configuration, data set,
repeat), so that the peak RSS it reports (`resource.getrusage`) is this run's alone:

    python bench/speed_ours.py --data WORK/real --steps 300 --json out.json [--attention | --transformer]
    python bench/speed_ours.py --matmul --json peak.json      # float32 matmul GFLOP/s

Training goes through the library's own pipeline, `Translator.fit` (length-bucketed
`TrainingBatches`, `Model.fit`, padded lengths in steps of 4 as the `tatoeba-*` presets use), for
exactly `--steps` batches: one epoch over `steps x batch` training pairs (the vocabulary is built
from the whole training file first). There is no step
limit in `TrainSettings`, hence the one-epoch subset.

Two training rates are recorded, both in real target tokens (words + `<eos>`, padding excluded)
over the batches whose padded shape had been seen before (a new shape pays for compilation):
- `train_tokens_per_second`: tokens over the time from one batch's end to the next batch's end,
  so everything in the loop counts (batch assembly, callbacks, the step). The headline figure.
- `meter_tokens_per_second`: the library's `Throughput` meter (translator.info["training"]),
  which times each batch from its start callback to its end callback only.
`compile_seconds` is the fit's wall time minus its steady batches' share at the steady rate.

Decoding: the first 1,000 test sources, batches of 64, greedy and beam 5, each sentence stops at
its own `<eos>`. One untimed pass compiles every padded shape; the second pass is timed (the
tokenising of sources and detokenising of outputs included, as `translate` does).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import sys
import time
from pathlib import Path

import keras_seq2seq  # noqa: E402,F401  first: JAX by default, and the allocator settings (allocator.py)
from keras_seq2seq.config import preset


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="folder with train.tsv and test.tsv (source<TAB>target)")
    parser.add_argument("--json", type=Path, required=True, help="write the figures here")
    parser.add_argument("--steps", type=int, default=300, help="training batches")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=8000, help="vocabulary cap per side, reserved ids included")
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--attention", action="store_true", help="brnn encoder + Luong general + input feeding")
    parser.add_argument("--transformer", action="store_true",
                        help="a Transformer of --units model size (the tfm configuration of bench/speed.py)")
    parser.add_argument("--layers", type=int, default=3, help="--transformer: blocks per side")
    parser.add_argument("--heads", type=int, default=4, help="--transformer: attention heads")
    parser.add_argument("--ffn-dim", type=int, default=1024, help="--transformer: feed-forward size")
    parser.add_argument("--warmup-steps", type=int, default=100,
                        help="--transformer: the inverse-sqrt schedule's warm-up (peak 1e-3)")
    parser.add_argument("--max-length", type=int, default=50, help="generation limit in tokens")
    parser.add_argument("--sentences", type=int, default=1000, help="test sentences to decode")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--shortlist", type=int, default=2048,
                        help="also decode with a vocabulary shortlist of this size (0: not)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--length-step", type=int, default=preset("tatoeba-word").train.length_step,
                        help="padded source lengths are multiples of this (targets: of half); default: "
                             "the tatoeba-* presets' step, our best pipeline for real corpora")
    parser.add_argument("--matmul", action="store_true", help="only measure the float32 matmul peak")
    return parser.parse_args(argv)


def read_tsv(path: Path) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as handle:
        return [tuple(line.rstrip("\n").split("\t")[:2]) for line in handle if "\t" in line]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def matmul_peak(size: int = 2048, repeats: int = 10) -> dict:
    """Median GFLOP/s of a float32 `size x size` matmul with numpy and with JAX (2·n³ FLOPs)."""
    import numpy as np
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    flops = 2 * size**3
    result = {}
    product = jax.jit(jnp.matmul)
    ja, jb = jnp.asarray(a), jnp.asarray(b)
    for name, run in (("numpy", lambda: a @ b), ("jax", lambda: product(ja, jb).block_until_ready())):
        run()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        result[f"{name}_gflops"] = round(flops / statistics.median(times) / 1e9, 1)
    result["gflops"] = max(result["numpy_gflops"], result["jax_gflops"])
    return result


def make_meter_class():
    """The library's Throughput meter, also noting when each batch ends (bench-side subclass)."""
    from keras_seq2seq.callbacks import Throughput

    class EndToEndThroughput(Throughput):
        def on_train_begin(self, logs=None):
            self.end_to_end_tokens = 0
            self.end_to_end_seconds = 0.0
            self._last_end = None

        def on_epoch_begin(self, epoch, logs=None):
            self._last_end = None  # the gap over an epoch boundary is not a batch

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            shape = self.batches.padded_shape(batch)
            if shape in self.shapes_seen and self._last_end is not None:
                self.end_to_end_tokens += self.batches.batch_target_tokens(batch)
                self.end_to_end_seconds += now - self._last_end
            super().on_train_batch_end(batch, logs)
            self._last_end = time.perf_counter()

    return EndToEndThroughput


def train(args, pairs: list[tuple[str, str]]) -> tuple[object, dict]:
    """Build the vocabularies from all `pairs`, then fit exactly `--steps` batches."""
    from keras_seq2seq import Translator, training

    meters = []
    meter_class = make_meter_class()

    def meter_factory(batches):  # training.fit makes the meter; we keep a handle on it
        meters.append(meter_class(batches))
        return meters[-1]

    training.Throughput = meter_factory
    if args.transformer:  # no dropout, as the recurrent configurations; warm-up, as Transformers need
        model = dict(architecture="transformer", num_layers=args.layers, heads=args.heads, ffn_dim=args.ffn_dim,
                     attention_dropout=0.0, lr_schedule="inverse-sqrt", warmup_steps=args.warmup_steps)
    else:
        model = dict(embedding_dim=args.embedding, num_layers=1, attention="luong-general" if args.attention
                     else "none", bidirectional=args.attention)
    translator = Translator.create(
        pairs, max_vocab=args.vocab, min_freq=1, units=args.units, dropout=0.0, batch_size=args.batch_size,
        epochs=1, patience=0, learning_rate=1e-3, seed=args.seed, length_step=args.length_step,
        max_output_len=args.max_length, **model)
    wanted = args.steps * args.batch_size
    subset = (pairs * math.ceil(wanted / len(pairs)))[:wanted]
    record = translator.fit(subset, dev=None, verbose=0)
    meter = meters[-1]
    steady = meter.end_to_end_tokens / meter.end_to_end_seconds if meter.end_to_end_seconds else 0.0
    total_tokens = int(meter.batches.target_lengths.sum())
    return translator, {
        "train_tokens_per_second": round(steady, 1),
        "meter_tokens_per_second": record["target_tokens_per_second"],
        "train_seconds": record["seconds"],
        "compile_seconds": round(max(0.0, record["seconds"] - total_tokens / steady), 1) if steady else None,
        "steps": len(meter.batches),
        "train_target_tokens": total_tokens,
        "steady_target_tokens": meter.end_to_end_tokens,
        "padded_shapes": len(meter.shapes_seen),
        "final_loss": round(record["history"]["loss"][-1], 3),
        "source_vocab": len(translator.source_vocab), "target_vocab": len(translator.target_vocab),
    }


def decode_pass(translator, sources: list[str], beam_size: int,
                batch_size: int) -> tuple[float, list[int], list[str]]:
    """Seconds to turn `sources` into output strings, each output's length in tokens (no <eos>),
    and the outputs."""
    from keras_seq2seq.text.vocabulary import EOS_ID, PAD_ID

    generator = translator.generator(beam_size)
    lengths, outputs = [0] * len(sources), [""] * len(sources)
    started = time.perf_counter()
    for i, (ids, _scores) in translator.generate_rows(sources, generator, batch_size):
        best = ids[0].tolist()
        outputs[i] = translator.decode_target(best)
        ended = best.index(EOS_ID) if EOS_ID in best else len(best)
        lengths[i] = sum(1 for token in best[:ended] if token != PAD_ID)
    return time.perf_counter() - started, lengths, outputs


def decode(args, translator, test: list[tuple[str, str]]) -> dict:
    """Greedy and beam decoding with the whole vocabulary, then (with `--shortlist`) with the
    shortlist that training built: its speed, and its BLEU against the references next to the
    whole vocabulary's (sacrebleu, as `bench/quality.py` scores)."""
    import sacrebleu

    sources = [source for source, _ in test[: args.sentences]]
    references = [target for _, target in test[: args.sentences]]
    figures = {"decode_sentences": len(sources)}
    for size in (0, args.shortlist) if args.shortlist else (0,):
        translator.use_shortlist(size)
        suffix = "_shortlist" if size else ""
        for label, beam in (("greedy", 1), (f"beam{args.beam_size}", args.beam_size)):
            first, _, _ = decode_pass(translator, sources, beam, args.batch_size)  # compiles each shape
            seconds, lengths, outputs = decode_pass(translator, sources, beam, args.batch_size)
            name = label + suffix
            figures[f"{name}_sentences_per_second"] = round(len(sources) / seconds, 1)
            figures[f"{name}_compile_seconds"] = round(max(0.0, first - seconds), 1)
            figures[f"{name}_mean_length"] = round(statistics.mean(lengths), 2)
            figures[f"{name}_at_max_length"] = sum(1 for n in lengths if n >= args.max_length)
            figures[f"{name}_bleu"] = round(sacrebleu.corpus_bleu(outputs, [references]).score, 2)
    translator.use_shortlist(0)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.matmul:
        figures = matmul_peak()
    else:
        import keras

        train_pairs = read_tsv(args.data / "train.tsv")
        test_pairs = read_tsv(args.data / "test.tsv")
        translator, figures = train(args, train_pairs)
        figures.update(decode(args, translator, test_pairs))
        figures["backend"] = keras.backend.backend()
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
