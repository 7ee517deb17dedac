"""OpenNMT-py 3.5.1's side of bench/speed.py: one configuration, figures as JSON.

    bench/peers/opennmt-venv/bin/python bench/speed_peer.py --data WORK/real --run WORK/runs/x \
        --steps 300 --json out.json [--attention]

Runs inside the peer venv (made by bench/opennmt_peer.py), started by bench/speed.py with the same
arguments as bench/speed_ours.py. The shared TSVs are already tokenised (tokens split on spaces,
no transforms); OpenNMT-py trains on them with its own data pipeline at its defaults, `batch_type
sents` (with `--batch-tokens N`: its own token batches, `batch_type tokens`, `batch_size N`), for
exactly `--steps` steps, then decodes the test sources greedy and with beam 5.
bench/README.md says what each figure counts.
"""

from __future__ import annotations

import re
import statistics
import sys
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
    attention = {"encoder_type": "brnn", "global_attention": "general", "input_feed": 1} if args.attention else \
        {"encoder_type": "rnn", "global_attention": "none", "input_feed": 0}
    config = write_config(
        run, train, **attention, src_vocab_size=args.vocab, tgt_vocab_size=args.vocab, layers=1,
        hidden_size=args.units, word_vec_size=args.embedding, dropout=[0.0], attention_dropout=[0.0], optim="adam",
        learning_rate=0.001, batch_type="tokens" if args.batch_tokens else "sents",
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
    figures["peak_rss_mb"] = max(figures["train_peak_rss_mb"], figures["translate_peak_rss_mb"])
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
