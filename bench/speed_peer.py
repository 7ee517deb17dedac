"""OpenNMT-py 3.5.1's side of bench/speed.py: one configuration, figures as JSON.

    bench/peers/opennmt-venv/bin/python bench/speed_peer.py --data WORK/real --run WORK/runs/x \
        --steps 300 --json out.json [--attention | --transformer]

Runs inside the peer venv (made by bench/opennmt_peer.py), started by bench/speed.py with the same
arguments as bench/speed_ours.py. The shared TSVs are already tokenised (tokens split on spaces,
no transforms); OpenNMT-py trains on them with its own data pipeline at its defaults, `batch_type
sents` (with `--batch-tokens N`: its own token batches, `batch_type tokens`, `batch_size N`), for
exactly `--steps` steps, then decodes the test sources greedy and with beam 5.
bench/README.md says what each figure counts.

With `--transformer`, the model is OpenNMT-py's Transformer at the sizes given (no dropout, the
"noam" schedule peaking at 1e-3 after `--warmup-steps`, as bench/speed_ours.py trains ours), and
the trained model is also converted to CTranslate2 (float32 and int8 weights), which decodes the
same sentences: the decoding anchor, a C++ engine made for exactly this. CTranslate2 runs in this
process with 2 threads, batches of 64 sentences, the same length limit; its time is the
`translate_batch` call alone (the model loaded and one untimed pass made first).
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

from common import read_columns, side_arguments, write_json
from opennmt_peer import run_onmt, translate, write_config, write_tokenised

REPORT_EVERY = 20  # steps per logged throughput window (fewer for very short runs)


def parse_args(argv: list[str] | None):
    parser = side_arguments(__doc__)
    parser.add_argument("--run", type=Path, required=True, help="work folder for this run")
    return parser.parse_args(argv)


def report_every(steps: int) -> int:
    """Steps per logged window: at least 5 windows, so some remain after the first is dropped."""
    return max(1, min(REPORT_EVERY, steps // 5))


def steady_rate(log: Path, steps: int) -> tuple[float, int, list[float]]:
    """(target tokens/s over all logged windows but the first, last step, each window's tok/s).

    Each window logs its target tokens per batch and its rate; the first (bucket filling,
    warm-up) is dropped and the rest summed as tokens over seconds."""
    windows = re.findall(r"Step (\d+)/\s*\d+;.*?bsz:\s*[\d.]+/\s*([\d.]+)/\s*[\d.]+;\s*[\d.]+/\s*([\d.]+) tok/s",
                         log.read_text(errors="replace"))
    tokens = seconds = 0.0
    for _, per_batch, rate in windows[1:]:
        tokens += float(per_batch) * report_every(steps)
        seconds += float(per_batch) * report_every(steps) / float(rate) if float(rate) else 0.0
    last = int(windows[-1][0]) if windows else 0
    return (tokens / seconds if seconds else 0.0), last, [float(rate) for _, _, rate in windows]


def model_options(args) -> dict:
    """The network and optimiser part of the config: the RNN configurations, or the Transformer."""
    if args.transformer:
        return {
            "encoder_type": "transformer", "decoder_type": "transformer", "position_encoding": True,
            "enc_layers": args.layers, "dec_layers": args.layers, "heads": args.heads, "hidden_size": args.units,
            "word_vec_size": args.units, "transformer_ff": args.ffn_dim, "dropout": [0.0],
            "attention_dropout": [0.0], "optim": "adam", "adam_beta2": 0.998, "decay_method": "noam",
            "warmup_steps": args.warmup_steps,
            # noam's peak, at warmup_steps, is learning_rate / sqrt(units * warmup_steps): 1e-3, as ours
            "learning_rate": round(1e-3 * (args.units * args.warmup_steps) ** 0.5, 6),
            "param_init": 0.0, "param_init_glorot": True, "max_grad_norm": 0.0,
        }
    attention = {"encoder_type": "brnn", "global_attention": "general", "input_feed": 1} if args.attention else \
        {"encoder_type": "rnn", "global_attention": "none", "input_feed": 0}
    return {**attention, "layers": 1, "hidden_size": args.units, "word_vec_size": args.embedding,
            "dropout": [0.0], "attention_dropout": [0.0], "optim": "adam", "learning_rate": 0.001}


def ctranslate2_figures(args, model: Path, run: Path, test_src: Path, sentences: int) -> dict:
    """The trained model converted to CTranslate2 (float32, int8), decoding `test_src`: sent/s."""
    import ctranslate2
    import torch
    from ctranslate2.converters import OpenNMTPyConverter

    sources = [line.split() for line in test_src.read_text(encoding="utf-8").splitlines()]
    figures = {"ctranslate2_version": ctranslate2.__version__}
    # OpenNMT-py trained and decoded with its default attention, "scaled-dot-flash" (torch's fused
    # kernel); the converter accepts only the name "scaled-dot": the same weights and function.
    checkpoint = torch.load(model, map_location="cpu", weights_only=False)  # our own file, from onmt_train above
    checkpoint["opt"].self_attn_type = "scaled-dot"
    model = run / "model_for_ctranslate2.pt"
    torch.save(checkpoint, model)
    for quantization in ("float32", "int8"):
        folder = run / f"ct2-{quantization}"
        # The checkpoint pickles its options (an argparse.Namespace): our own file, as above.
        OpenNMTPyConverter(str(model), unsafe_deserialization=True).convert(
            str(folder), quantization=quantization, force=True)
        translator = ctranslate2.Translator(str(folder), device="cpu", inter_threads=1, intra_threads=2)
        for label, beam in (("greedy", 1), (f"beam{args.beam_size}", args.beam_size)):
            options = dict(beam_size=beam, max_batch_size=args.batch_size, max_decoding_length=args.max_length)
            translator.translate_batch(sources, **options)  # untimed: allocations, caches
            started = time.perf_counter()
            results = translator.translate_batch(sources, **options)
            seconds = time.perf_counter() - started
            lengths = [len(r.hypotheses[0]) for r in results]
            name = f"ct2_{quantization}_{label}"
            figures[f"{name}_sentences_per_second"] = round(sentences / seconds, 1)
            figures[f"{name}_mean_length"] = round(statistics.mean(lengths), 2) if lengths else 0.0
    return figures


def vocab_size(log: Path, side: str) -> int | None:
    found = re.search(rf"{side} vocab size = (\d+)", log.read_text(errors="replace"))
    return int(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = args.run.resolve()
    run.mkdir(parents=True, exist_ok=True)
    for old in run.glob("model_step_*.pt"):
        old.unlink()
    pairs = read_columns(args.data / "train.tsv")
    test = read_columns(args.data / "test.tsv", args.sentences)
    train = write_tokenised(pairs, str, str, run / "train")
    test_src, _ = write_tokenised(test, str, str, run / "test")
    config = write_config(
        run, train, **model_options(args), src_vocab_size=args.vocab, tgt_vocab_size=args.vocab,
        batch_type="tokens" if args.batch_tokens else "sents",
        batch_size=args.batch_tokens or args.batch_size, train_steps=args.steps,
        save_checkpoint_steps=args.steps, report_every=report_every(args.steps), seed=args.seed,
        bucket_size=min(262144, len(pairs)))  # the default bucket would cycle a small corpus many times to fill
    run_onmt("onmt_build_vocab", "-config", str(config), "-n_sample", "-1", log=run / "build_vocab.log")
    train_rss = run_onmt("onmt_train", "-config", str(config), log=run / "train.log")
    rate, last_step, rates = steady_rate(run / "train.log", args.steps)
    per_batch = re.findall(r"bsz:\s*[\d.]+/\s*([\d.]+)/", (run / "train.log").read_text(errors="replace"))
    model = run / f"model_step_{args.steps}.pt"
    if not model.is_file():
        raise SystemExit(f"speed-peer: onmt_train left no {model.name}; see {run / 'train.log'}")
    figures = {
        "train_tokens_per_second": round(rate, 1), "window_tokens_per_second": rates,
        "steps": last_step, "report_every": report_every(args.steps), "train_peak_rss_mb": round(train_rss, 1),
        "target_tokens_per_batch": round(statistics.mean(map(float, per_batch)), 1) if per_batch else None,
        "source_vocab": vocab_size(run / "train.log", "src"), "target_vocab": vocab_size(run / "train.log", "tgt"),
        "decode_sentences": len(test), "translate_peak_rss_mb": 0.0,
    }
    for label, beam in (("greedy", 1), (f"beam{args.beam_size}", args.beam_size)):
        out = run / f"test.{label}.txt"
        seconds, rss = translate(model, test_src, out, beam, "-max_length", str(args.max_length))
        figures["translate_peak_rss_mb"] = round(max(figures["translate_peak_rss_mb"], rss), 1)
        lengths = [len(line.split()) for line in out.read_text(encoding="utf-8").splitlines()]
        figures[f"{label}_sentences_per_second"] = round(len(test) / seconds, 1)
        figures[f"{label}_mean_length"] = round(statistics.mean(lengths), 2) if lengths else 0.0
        figures[f"{label}_at_max_length"] = sum(1 for n in lengths if n >= args.max_length)
    if args.transformer:
        figures.update(ctranslate2_figures(args, model, run, test_src, len(test)))
    figures["peak_rss_mb"] = max(figures["train_peak_rss_mb"], figures["translate_peak_rss_mb"])
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
