"""OpenNMT-py 3.5.1's side of bench/speed.py: one configuration, figures as JSON.

Runs inside the peer venv (bench/peers/opennmt-venv, made by bench/opennmt_peer.py), started by
bench/speed.py with the same arguments as bench/speed_ours.py:

    bench/peers/opennmt-venv/bin/python bench/speed_peer.py --data WORK/real --run WORK/runs/x \
        --steps 300 --json out.json [--attention | --transformer]

It writes the shared TSVs as OpenNMT-py's .src/.tgt files (already tokenised: tokens are split
on spaces, no transforms), builds the vocabularies (capped like ours, 4 specials included), and
trains with OpenNMT-py's own data pipeline at its defaults (dynamic iterator, length-sorted
pools, DataLoader workers), `batch_type sents`, `batch_size 64`, for exactly `--steps` steps.

Training rate: onmt_train logs, every `report_every` steps, the target tokens of that window
(non-padding tokens of the shifted target: words + `</s>`, the same count as ours) over the
window's wall time. The first window (bucket filling, warm-up) is dropped; the rest are summed
as tokens over seconds. Decoding: onmt_translate, batch 64 sentences, greedy and beam 5, its own
"Total translation time" (process start and model load excluded). Peak RSS: `os.wait4` on each
OpenNMT-py process; the reported peak is the larger of training and translation.

With `--transformer`, the model is OpenNMT-py's Transformer at the sizes given (no dropout, the
"noam" schedule peaking at 1e-3 after `--warmup-steps`, as bench/speed_ours.py trains ours), and
the trained model is also converted to CTranslate2 (float32 and int8 weights) and decodes the
same sentences there: the decoding anchor, a C++ engine made for exactly this. CTranslate2 runs
in this process with 2 threads, batches of 64 sentences, the same length limit; its time is the
`translate_batch` call alone (the model is loaded and one untimed pass made first).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from opennmt_peer import onmt  # noqa: E402  (the venv's tools, with the weights-only quirk set)

REPORT_EVERY = 20  # steps per logged throughput window (fewer for very short runs)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with train.tsv and test.tsv")
    parser.add_argument("--run", type=Path, required=True, help="work folder for this run")
    parser.add_argument("--json", type=Path, required=True, help="write the figures here")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--attention", action="store_true")
    parser.add_argument("--transformer", action="store_true")
    parser.add_argument("--layers", type=int, default=3, help="--transformer: blocks per side")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ffn-dim", type=int, default=1024)
    parser.add_argument("--warmup-steps", type=int, default=100)
    parser.add_argument("--max-length", type=int, default=50)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def split_tsv(tsv: Path, stem: Path, limit: int | None = None) -> tuple[Path, Path, int]:
    """`<stem>.src` and `<stem>.tgt` from a source<TAB>target file; returns them and the line count."""
    sources, targets = [], []
    with open(tsv, encoding="utf-8") as handle:
        for line in handle:
            if "\t" in line:
                source, target = line.rstrip("\n").split("\t")[:2]
                sources.append(source + "\n")
                targets.append(target + "\n")
            if limit and len(sources) >= limit:
                break
    src, tgt = stem.with_suffix(".src"), stem.with_suffix(".tgt")
    src.write_text("".join(sources), encoding="utf-8")
    tgt.write_text("".join(targets), encoding="utf-8")
    return src, tgt, len(sources)


def model_config(args) -> dict:
    if args.transformer:
        return {
            "encoder_type": "transformer", "decoder_type": "transformer", "position_encoding": True,
            "enc_layers": args.layers, "dec_layers": args.layers, "heads": args.heads, "hidden_size": args.units,
            "word_vec_size": args.units, "transformer_ff": args.ffn_dim, "dropout": [0.0],
            "attention_dropout": [0.0], "optim": "adam", "adam_beta2": 0.998, "decay_method": "noam",
            "warmup_steps": args.warmup_steps, "learning_rate": round(1e-3 * (args.units * args.warmup_steps) ** 0.5, 6),
            "param_init": 0.0, "param_init_glorot": True, "max_grad_norm": 0.0,
        }
    return {
        "encoder_type": "brnn" if args.attention else "rnn", "decoder_type": "rnn", "rnn_type": "LSTM",
        "layers": 1, "hidden_size": args.units, "word_vec_size": args.embedding,
        "global_attention": "general" if args.attention else "none",
        "input_feed": 1 if args.attention else 0,
        "dropout": [0.0], "attention_dropout": [0.0], "optim": "adam", "learning_rate": 0.001,
    }


def write_config(args, run: Path, train: tuple[Path, Path], pairs: int) -> Path:
    config = {
        "save_data": str(run / "onmt"), "overwrite": True,
        "src_vocab": str(run / "vocab.src"), "tgt_vocab": str(run / "vocab.tgt"),
        "src_vocab_size": args.vocab, "tgt_vocab_size": args.vocab,
        "data": {"corpus_1": {"path_src": str(train[0]), "path_tgt": str(train[1])}},
        **model_config(args),
        "batch_type": "sents", "batch_size": args.batch_size, "train_steps": args.steps,
        "save_model": str(run / "model"), "save_checkpoint_steps": args.steps,
        "report_every": report_every(args.steps), "world_size": 1, "seed": args.seed,
        # The default bucket (262,144 examples) would cycle a small corpus many times to fill.
        "bucket_size": min(262144, pairs),
    }
    path = run / "onmt.yaml"
    path.write_text(json.dumps(config, indent=1))  # JSON is valid YAML
    return path


def run_measured(tool: str, *args: str, log: Path) -> float:
    """Run an OpenNMT-py tool to its end; return its peak RSS in MB (fail with the log's tail)."""
    proc = onmt(tool, *args, log=log)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-15:])
        raise SystemExit(f"speed-peer: {tool} failed (exit {proc.returncode}), see {log}:\n{tail}")
    return usage.ru_maxrss / 1024


def report_every(steps: int) -> int:
    """Steps per logged window: at least 5 windows, so some remain after the first is dropped."""
    return max(1, min(REPORT_EVERY, steps // 5))


def steady_rate(log: Path, steps: int) -> tuple[float, int, list[float]]:
    """(tokens/s over all windows but the first, last step, each window's target tok/s)."""
    windows = re.findall(r"Step (\d+)/\s*\d+;.*?bsz:\s*[\d.]+/\s*([\d.]+)/\s*[\d.]+;\s*[\d.]+/\s*([\d.]+) tok/s",
                         log.read_text(errors="replace"))
    tokens = seconds = 0.0
    rates = [float(rate) for _, _, rate in windows]
    for _, per_batch, rate in windows[1:]:
        window_tokens = float(per_batch) * report_every(steps)
        tokens += window_tokens
        seconds += window_tokens / float(rate) if float(rate) else 0.0
    last = int(windows[-1][0]) if windows else 0
    return (tokens / seconds if seconds else 0.0), last, rates


def translate(args, model: Path, src: Path, out: Path, beam: int) -> tuple[float, float]:
    """(seconds by onmt_translate's own timer, peak RSS MB)."""
    log = out.with_suffix(".log")
    rss = run_measured("onmt_translate", "-model", str(model), "-src", str(src), "-output", str(out),
                       "-beam_size", str(beam), "-batch_size", str(args.batch_size), "-batch_type", "sents",
                       "-max_length", str(args.max_length), "-report_time", log=log)
    found = re.search(r"Total translation time \(s\): ([\d.]+)", log.read_text(errors="replace"))
    if not found or float(found.group(1)) <= 0:
        raise SystemExit(f"speed-peer: no 'Total translation time' in {log}")
    return float(found.group(1)), rss


def ctranslate2_figures(args, model: Path, run: Path, test_src: Path, sentences: int) -> dict:
    """The trained model converted to CTranslate2 (float32, int8), decoding `test_src`: sent/s."""
    import ctranslate2
    from ctranslate2.converters import OpenNMTPyConverter

    import torch

    sources = [line.split() for line in test_src.read_text(encoding="utf-8").splitlines()]
    figures = {"ctranslate2_version": ctranslate2.__version__}
    # OpenNMT-py trained and decoded with its default attention, "scaled-dot-flash" (torch's fused
    # kernel); the converter accepts only the name "scaled-dot", the same weights and function.
    checkpoint = torch.load(model, map_location="cpu", weights_only=False)  # our own file (onmt_train above)
    checkpoint["opt"].self_attn_type = "scaled-dot"
    model = run / "model_for_ctranslate2.pt"
    torch.save(checkpoint, model)
    for quantization in ("float32", "int8"):
        folder = run / f"ct2-{quantization}"
        # The checkpoint pickles its options (an argparse.Namespace): our own file, from onmt_train above.
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
    *train, pairs = split_tsv(args.data / "train.tsv", run / "train")
    test_src, _, sentences = split_tsv(args.data / "test.tsv", run / "test", args.sentences)
    config = write_config(args, run, tuple(train), pairs)
    run_measured("onmt_build_vocab", "-config", str(config), "-n_sample", "-1", log=run / "build_vocab.log")
    train_rss = run_measured("onmt_train", "-config", str(config), log=run / "train.log")
    rate, last_step, rates = steady_rate(run / "train.log", args.steps)
    model = run / f"model_step_{args.steps}.pt"
    if not model.is_file():
        raise SystemExit(f"speed-peer: onmt_train left no {model.name}; see {run / 'train.log'}")
    figures = {
        "train_tokens_per_second": round(rate, 1), "window_tokens_per_second": rates,
        "steps": last_step, "report_every": report_every(args.steps), "train_peak_rss_mb": round(train_rss, 1),
        "source_vocab": vocab_size(run / "train.log", "src"), "target_vocab": vocab_size(run / "train.log", "tgt"),
        "decode_sentences": sentences,
    }
    translate_rss = 0.0
    for label, beam in (("greedy", 1), (f"beam{args.beam_size}", args.beam_size)):
        out = run / f"test.{label}.txt"
        seconds, rss = translate(args, model, test_src, out, beam)
        translate_rss = max(translate_rss, rss)
        lengths = [len(line.split()) for line in out.read_text(encoding="utf-8").splitlines()]
        figures[f"{label}_sentences_per_second"] = round(sentences / seconds, 1)
        figures[f"{label}_mean_length"] = round(statistics.mean(lengths), 2) if lengths else 0.0
        figures[f"{label}_at_max_length"] = sum(1 for n in lengths if n >= args.max_length)
    if args.transformer:
        figures.update(ctranslate2_figures(args, model, run, test_src, sentences))
    figures["translate_peak_rss_mb"] = round(translate_rss, 1)
    figures["peak_rss_mb"] = max(figures["train_peak_rss_mb"], figures["translate_peak_rss_mb"])
    args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
