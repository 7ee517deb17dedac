"""OpenNMT-py 3.5.1's side of bench/dialogue.py: train on given token files, decode, score gold replies.

Runs inside the peer venv (bench/peers/opennmt-venv, made by bench/opennmt_peer.py), started by
bench/dialogue.py, which writes the data already tokenised (our word tokeniser's tokens joined by
spaces, so both sides see the same tokens and vocabulary) and scores every output itself:

    bench/peers/opennmt-venv/bin/python bench/dialogue_peer.py train --work W --minutes 30 --json out.json
    bench/peers/opennmt-venv/bin/python bench/dialogue_peer.py translate --model W/model_step_N.pt \\
        --src W/test.src --tgt W/test.tgt --out W/test.out --options "-beam_size 5" --json out.json

`train` runs the classic recipe of bench/opennmt_peer.py (RECIPE) on W/train.{src,tgt} with the
vocabularies capped like ours (`--vocab`, its 4 specials included), checkpoints every
`--save-steps` and is killed when the budget ends; the newest whole checkpoint is the model.
`translate` decodes with the given onmt_translate options; with `--tgt` it also scores the
reference replies (teacher forced, `</s>` included) and reports their summed log-probability,
from which bench/dialogue.py takes the perplexity.
"""

from __future__ import annotations

import re
import shlex
import statistics
import sys
from pathlib import Path

from common import argument_parser, write_json
from opennmt_peer import RECIPE, latest_checkpoint, run_onmt, train_for, train_log, write_config


def parse_args(argv: list[str] | None):
    parser = argument_parser(__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train for a budget")
    train.add_argument("--work", type=Path, required=True, help="folder with train.src and train.tgt")
    train.add_argument("--minutes", type=float, required=True, help="training wall-clock budget")
    train.add_argument("--vocab", type=int, default=12000, help="most tokens per side, 4 specials included")
    train.add_argument("--save-steps", type=int, default=200, help="checkpoint every N steps")
    train.add_argument("--seed", type=int, default=1, help="OpenNMT-py's seed (its default draws one)")
    translate = commands.add_parser("translate", help="decode a source file")
    translate.add_argument("--model", type=Path, required=True, help="a checkpoint")
    translate.add_argument("--src", type=Path, required=True)
    translate.add_argument("--out", type=Path, required=True)
    translate.add_argument("--tgt", type=Path, help="also score these reference outputs (gold)")
    translate.add_argument("--options", default="-beam_size 5", help="onmt_translate options, one string")
    for sub in (train, translate):
        sub.add_argument("--json", type=Path, required=True, help="write the figures here")
    return parser.parse_args(argv)


def train(args) -> dict:
    work = args.work.resolve()
    for old in work.glob("model_step_*.pt"):
        old.unlink()
    pairs = sum(1 for _ in open(work / "train.src", encoding="utf-8"))
    config = write_config(work, (work / "train.src", work / "train.tgt"), **RECIPE, src_vocab_size=args.vocab,
                          tgt_vocab_size=args.vocab, save_checkpoint_steps=args.save_steps, seed=args.seed,
                          # The default bucket (262,144 examples) would cycle the corpus to fill it.
                          bucket_size=min(262144, pairs))
    run_onmt("onmt_build_vocab", "-config", str(config), "-n_sample", "-1", log=work / "build_vocab.log")
    minutes = train_for(config, args.minutes, work / "train.log")
    model, step = latest_checkpoint(work)
    rates, _ = train_log(work / "train.log")
    return {"checkpoint": str(model), "steps": step, "minutes": round(minutes, 2), "train_pairs": pairs,
            "train_tokens_per_second": round(statistics.median(rates)) if rates else 0}


def translate(args) -> dict:
    log = args.out.with_suffix(".log")
    gold = ["-tgt", str(args.tgt)] if args.tgt else []
    run_onmt("onmt_translate", "-model", str(args.model), "-src", str(args.src), "-output", str(args.out),
             "-batch_size", "64", "-batch_type", "sents", "-report_time", *gold, *shlex.split(args.options), log=log)
    text = log.read_text(errors="replace")
    seconds = re.search(r"Total translation time \(s\): ([\d.]+)", text)
    figures = {"seconds": float(seconds.group(1)) if seconds else None}
    if args.tgt:
        # "GOLD SCORE: <summed log-probability per sentence>, GOLD PPL: ... NB SENTENCES: n"
        found = re.search(r"GOLD SCORE: (-?[\d.]+).*?NB SENTENCES: (\d+)", text)
        if not found:
            raise SystemExit(f"dialogue-peer: no GOLD SCORE in {log}")
        figures["gold_log_prob"] = float(found.group(1)) * int(found.group(2))
        figures["gold_sentences"] = int(found.group(2))
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    write_json(args.json, train(args) if args.command == "train" else translate(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
