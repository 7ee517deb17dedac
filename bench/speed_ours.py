"""keras-seq2seq's side of bench/speed.py: one configuration, one process, figures as JSON.

    python bench/speed_ours.py --data WORK/real --steps 300 --json out.json [--attention | --transformer]
    python bench/speed_ours.py --matmul --json peak.json      # float32 matmul GFLOP/s

Started by bench/speed.py, one fresh process per run, so that the peak RSS it reports is this
run's alone. Training is the library's own (`Translator.fit`: length-bucketed batches padded in
steps of 4, as the tatoeba-* presets pad them; `--batch-tokens N`: token batches) with
vocabularies from the whole training file,
stopped after `--steps` batches (`max_steps`), timed by an extra Keras callback; decoding is
`Translator.generate_rows`, greedy and beam, with and without the shortlist. bench/README.md
says what each figure counts.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from common import as_the_command_does, peak_rss_mb, read_columns, side_arguments, timed, write_json

as_the_command_does()  # before anything imports Keras
from keras_seq2seq.config import preset  # noqa: E402


def parse_args(argv: list[str] | None):
    parser = side_arguments(__doc__)
    parser.add_argument("--shortlist", type=int, default=2048,
                        help="also decode with a vocabulary shortlist of this size (0: not)")
    parser.add_argument("--length-step", type=int, default=preset("tatoeba-word").train.length_step,
                        help="padded source lengths are multiples of this (targets: of half)")
    parser.add_argument("--matmul", action="store_true", help="only measure the float32 matmul peak")
    return parser.parse_args(argv)


def matmul_peak(size: int = 2048, repeats: int = 10) -> dict:
    """Median GFLOP/s of a float32 `size x size` matmul with numpy and with JAX (2·n³ FLOPs)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    product, ja, jb = jax.jit(jnp.matmul), jnp.asarray(a), jnp.asarray(b)
    result = {}
    for name, run in (("numpy", lambda: a @ b), ("jax", lambda: product(ja, jb).block_until_ready())):
        run()
        seconds = statistics.median(timed(run)[0] for _ in range(repeats))
        result[f"{name}_gflops"] = round(2 * size**3 / seconds / 1e9, 1)
    result["gflops"] = max(result["numpy_gflops"], result["jax_gflops"])
    return result


def batch_meter(batches):
    """The library's `Throughput` meter (each batch from its start to its end), also timing each
    batch from the previous one's end, so that everything in the loop counts (batch assembly,
    callbacks, the step). Both count real target tokens of batches whose padded shape was seen
    before (a new shape pays for compiling). `batches` is a copy of the ones `fit` trains on,
    whose order is a pure function of (seed, epoch)."""
    from keras_seq2seq.training.callbacks import Throughput

    class EndToEndThroughput(Throughput):
        def on_train_begin(self, logs=None):
            self.end_to_end_tokens, self.end_to_end_seconds, self.all_tokens, self.batches_run = 0, 0.0, 0, 0
            self._began, self._last_end = time.perf_counter(), None

        def on_epoch_begin(self, epoch, logs=None):
            if epoch != self.batches.epoch:
                self.batches.start_epoch(epoch)
            self._last_end = None  # the gap over an epoch boundary is not a batch

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            tokens = self.batches.batch_target_tokens(batch)
            if self.batches.padded_shape(batch) in self.shapes_seen and self._last_end is not None:
                self.end_to_end_tokens += tokens
                self.end_to_end_seconds += now - self._last_end
            self.all_tokens, self.batches_run = self.all_tokens + tokens, self.batches_run + 1
            super().on_train_batch_end(batch, logs)
            self._last_end = time.perf_counter()

        def on_train_end(self, logs=None):
            self.loop_seconds = time.perf_counter() - self._began

    return EndToEndThroughput(batches)


def train(args, pairs: list[tuple[str, str]]) -> tuple[object, dict]:
    """Vocabularies from all `pairs`, then exactly `--steps` batches."""
    from keras_seq2seq import Translator
    from keras_seq2seq.data.training_data import training_data

    if args.transformer:  # no dropout, as the recurrent configurations; warm-up, as Transformers need
        model = dict(architecture="transformer", num_layers=args.layers, heads=args.heads, ffn_dim=args.ffn_dim,
                     attention_dropout=0.0, lr_schedule="inverse-sqrt", warmup_steps=args.warmup_steps)
    else:
        model = dict(embedding_dim=args.embedding, num_layers=1, attention="luong-general" if args.attention
                     else "none", bidirectional=args.attention)
    translator = Translator.create(
        pairs, max_vocab=args.vocab, min_freq=1, units=args.units, dropout=0.0, batch_size=args.batch_size,
        batch_tokens=args.batch_tokens, epochs=args.steps, patience=0, learning_rate=1e-3, seed=args.seed,
        length_step=args.length_step, max_output_len=args.max_length, **model)
    batches = training_data(pairs).plan(translator.bundle.encode_pair, translator.settings).batches
    described = batches.describe()  # epoch 0's padding, before the meter moves the batches on
    meter = batch_meter(batches)
    record = translator.fit(pairs, verbose=0, callbacks=[meter], max_steps=args.steps)
    steady = meter.end_to_end_tokens / meter.end_to_end_seconds if meter.end_to_end_seconds else 0.0
    return translator, {
        "train_tokens_per_second": round(steady, 1),
        "meter_tokens_per_second": record["target_tokens_per_second"],
        "train_seconds": record["seconds"],
        "compile_seconds": round(max(0.0, meter.loop_seconds - meter.all_tokens / steady), 1) if steady else None,
        "steps": meter.batches_run,
        "train_target_tokens": meter.all_tokens,
        "steady_target_tokens": meter.end_to_end_tokens,
        "padded_shapes": len(meter.shapes_seen),
        "padding_share": described["padding_share"], "batch_rows": described["rows"],
        "target_tokens_per_batch": round(meter.all_tokens / meter.batches_run, 1) if meter.batches_run else None,
        "final_loss": round(record["history"]["loss"][-1], 3),
        "source_vocab": len(translator.source_vocab), "target_vocab": len(translator.target_vocab),
    }


def decode_pass(translator, sources: list[str], options, batch_size: int) -> tuple[float, list[int], list[str]]:
    """Seconds to turn `sources` into output strings, each output's length in tokens (no <eos>),
    and the outputs."""
    from keras_seq2seq.text.vocabulary import EOS_ID, PAD_ID

    lengths, outputs = [0] * len(sources), [""] * len(sources)
    started = time.perf_counter()
    for i, (ids, _scores) in translator.generate_rows(sources, options, batch_size):
        best = ids[0].tolist()
        outputs[i] = translator.decode_target(best)
        ended = best.index(EOS_ID) if EOS_ID in best else len(best)
        lengths[i] = sum(1 for token in best[:ended] if token != PAD_ID)
    return time.perf_counter() - started, lengths, outputs


def decode(args, translator, test: list[tuple[str, str]]) -> dict:
    """Greedy and beam decoding with the whole vocabulary, then (with `--shortlist`) with the
    shortlist that training built: speed, and BLEU against the references (sacrebleu, as
    bench/quality.py scores). One untimed pass compiles every shape; the second is timed."""
    import sacrebleu

    from keras_seq2seq.search.options import SearchOptions

    sources, references = [s for s, _ in test[: args.sentences]], [t for _, t in test[: args.sentences]]
    figures = {"decode_sentences": len(sources)}
    for size in (0, args.shortlist) if args.shortlist else (0,):
        translator.use_shortlist(size)
        for label, beam in (("greedy", 1), (f"beam{args.beam_size}", args.beam_size)):
            options = SearchOptions(beam_size=beam)
            first, _, _ = decode_pass(translator, sources, options, args.batch_size)
            seconds, lengths, outputs = decode_pass(translator, sources, options, args.batch_size)
            name = label + ("_shortlist" if size else "")
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

        translator, figures = train(args, read_columns(args.data / "train.tsv"))
        figures.update(decode(args, translator, read_columns(args.data / "test.tsv")))
        figures["backend"] = keras.backend.backend()
    write_json(args.json, {**figures, "peak_rss_mb": round(peak_rss_mb(), 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
