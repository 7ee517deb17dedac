"""Dialogue on DailyDialog: ours and OpenNMT-py 3.5.1 trained for the same budget, replies scored alike.

    python bench/dialogue.py --minutes 30 --peer
    python bench/dialogue.py --minutes 2 --train-limit 3000 --dev-limit 200 --test-limit 300 --peer \
        --peer-save-steps 20                                                             # smoke
    python bench/dialogue.py --model runs/dialogue --reverse-model runs/dialogue-reverse   # decode only

Reads DailyDialog's own splits (`../shared/data/dailydialog/{train,dev,test}.txt`, one
conversation a line, turns ended by `__eou__`; `--data-dir` names the folder that holds
`dailydialog/`, or that folder itself) and makes context -> reply
pairs as `seq2seq prepare-dialogue --context-turns 3` does: one pair per reply after a
conversation's first turn. Both sides get the same pairs and the same tokens (our word tokeniser's,
joined by spaces for OpenNMT-py), training pairs over 100 context or 50 reply tokens left out.

Ours: the `dailydialog-small` preset, and a reverse model (reply -> the turn before it) for
maximum mutual information reranking, sharing the budget: `--reverse-share` of `--minutes` goes
to the reverse model. Each trains with `seq2seq train` in a process of its own (training and
decoding in one process outgrew Linux's limit of memory mappings). The peer: OpenNMT-py's classic
recipe (bench/opennmt_peer.py) for all of `--minutes`, with the same vocabulary caps. Each side
then decodes 1,000 dev contexts with each of its decoding settings (greedy, beam, beam with length
penalty and repeat blocking, sampling; ours also MMI reranking of a beam or of ten sampled
replies, `--draws 10`) and keeps its best: the highest dev BLEU among settings whose ten most
frequent replies stay under 10% of the dev replies (the highest BLEU overall if none do). The
test split is decoded with that, and both sides' outputs are scored by the same code:
perplexity of the reference replies, sacreBLEU, Distinct-1/2, mean length, top-10 share.

Twenty test contexts (a fixed seed picks them) go to `--examples` with both replies and the
reference. This takes the budget twice over (ours, then the peer) plus about half an hour of
decoding on 2 cores. Last line:

    dialogue: corpus=dailydialog ppl=… bleu=… distinct1=… distinct2=… top10_share=… peer_ppl=… peer_bleu=…
              peer_distinct2=… minutes=…   (one line)
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shlex
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import (DATA_DIR, HERE, argument_parser, as_the_command_does, busy_warning, last_line, print_table,
                    run_side, write_json)

CONTEXT_TURNS = 3           # turns in a context, as `prepare-dialogue --context-turns 3`
MAX_SOURCE, MAX_TARGET = 100, 50  # the preset's training length limits, applied to the peer's data too
DEV_CONTEXTS = 1000         # dev contexts each decoding setting is tried on
TOP_SHARE_LIMIT = 0.10      # a setting qualifies when its ten most frequent replies stay under this share
EXAMPLES, EXAMPLE_SEED = 20, 23
# The peer's settings, as onmt_translate options (OpenNMT-py 3.5.1 has no MMI reranking).
PEER_SETTINGS = {
    "greedy": "-beam_size 1",
    "beam 5": "-beam_size 5",
    "beam 10, length penalty 1, no repeated 3-grams": "-beam_size 10 -length_penalty wu -alpha 1.0 -block_ngram_repeat 3",
    "sampling (T 0.8, top-p 0.9)": "-beam_size 1 -random_sampling_topk -1 -random_sampling_topp 0.9 "
                                   "-random_sampling_temp 0.8 -block_ngram_repeat 3 -seed 1",
}


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="folder of dailydialog/{train,dev,test}.txt as the other benchmarks take it "
                             "(or the dailydialog folder itself)")
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget of each side")
    parser.add_argument("--reverse-share", type=float, default=0.1,
                        help="share of our budget that trains the reverse (MMI) model")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=False,
                        help="also train and score OpenNMT-py 3.5.1 (bench/dialogue_peer.py, its own venv)")
    parser.add_argument("--model", type=Path, help="decode with this trained model instead of training one")
    parser.add_argument("--reverse-model", type=Path, help="with --model: its reverse model")
    parser.add_argument("--peer-model", type=Path, help="with --peer: this OpenNMT-py checkpoint instead of training")
    parser.add_argument("--peer-save-steps", type=int, default=200,
                        help="the peer checkpoints every N steps (the newest whole one is its model; lower it "
                             "for budgets of a minute or two)")
    parser.add_argument("--out", type=Path, default=Path("runs") / "dialogue", help="our model directory "
                        "(the reverse model goes to <out>-reverse)")
    parser.add_argument("--work", type=Path, default=HERE / "results" / "dialogue",
                        help="pairs, the peer's files and the results (JSON) go here")
    parser.add_argument("--examples", type=Path, help="write the twenty test examples here (Markdown; "
                        "default <work>/examples.md)")
    parser.add_argument("--train-limit", type=int, help="first N training conversations only (smoke tests)")
    parser.add_argument("--dev-limit", type=int, default=DEV_CONTEXTS, help="dev contexts to choose settings on")
    parser.add_argument("--test-limit", type=int, help="first N test pairs only (smoke tests)")
    args = parser.parse_args()
    if args.model and not args.reverse_model:
        parser.error("--model needs --reverse-model (the MMI settings use it)")
    as_the_command_does()

    from keras_seq2seq.text.tokenizers import WordTokenizer

    args.work.mkdir(parents=True, exist_ok=True)
    data = read_splits(args)
    tokenize = WordTokenizer().tokenize
    ours = run_ours(args, data)
    peer = run_peer(args, data, tokenize) if args.peer else None
    report(args, data, ours, peer)
    return 0


# ----------------------------------------------------------------------------- data
def read_splits(args) -> dict:
    """Context -> reply pairs of each split (3 turns), and the reverse pairs (reply -> previous turn)."""
    from keras_seq2seq.data.dialogue import dialogue_pairs, read_conversations

    data = {}
    folder = args.data_dir / "dailydialog" if (args.data_dir / "dailydialog").is_dir() else args.data_dir
    for split in ("train", "dev", "test"):
        path = folder / f"{split}.txt"
        if not path.is_file():
            print(f"dialogue: {path} not found; give --data-dir (a folder holding dailydialog/, or DailyDialog's train/dev/test.txt)", file=sys.stderr)
            raise SystemExit(2)
        conversations = read_conversations(path, format="dailydialog")
        if split == "train" and args.train_limit:
            conversations = conversations[: args.train_limit]
        data[split] = dialogue_pairs(conversations, CONTEXT_TURNS)
        data[f"{split}_reverse"] = [(reply, turn) for turn, reply in dialogue_pairs(conversations, 1)]
    data["dev_sample"] = random.Random(0).sample(data["dev"], min(args.dev_limit, len(data["dev"])))
    if args.test_limit:
        data["test"] = data["test"][: args.test_limit]
    print(f"dialogue: {len(data['train']):,} training pairs, {len(data['dev']):,} dev ({len(data['dev_sample']):,} "
          f"to choose settings on), {len(data['test']):,} test; contexts of {CONTEXT_TURNS} turns", flush=True)
    return data


def within_limits(tokenize, source: str, target: str) -> bool:
    return len(tokenize(source)) <= MAX_SOURCE and len(tokenize(target)) <= MAX_TARGET


# ----------------------------------------------------------------------------- ours
def run_ours(args, data: dict) -> dict:
    from keras_seq2seq import Translator
    from keras_seq2seq.reranking import MmiReranker

    if args.model:
        forward_dir, reverse_dir = args.model, args.reverse_model
    else:
        busy_warning("dialogue")
        forward_dir, reverse_dir = args.out, args.out.with_name(args.out.name + "-reverse")
        budget = {"forward": args.minutes * (1 - args.reverse_share), "reverse": args.minutes * args.reverse_share}
        train_in_own_process(args.work / "pairs", "forward", data["train"], data["dev"], forward_dir,
                             budget["forward"])
        train_in_own_process(args.work / "pairs", "reverse", data["train_reverse"], data["dev_reverse"],
                             reverse_dir, budget["reverse"])
        print(f"dialogue: our models are in {forward_dir} and {reverse_dir}", flush=True)
    forward, reverse = Translator.load(forward_dir), Translator.load(reverse_dir)
    # The training time each model recorded (its model card shows the same).
    minutes = {"forward": float(forward.info.get("training", {}).get("seconds", 0)) / 60,
               "reverse": float(reverse.info.get("training", {}).get("seconds", 0)) / 60}
    settings = our_settings(MmiReranker, reverse.bundle)
    dev = data["dev_sample"]
    tried = {}
    for name, (options, reranker, draws) in settings.items():
        replies = forward.reply([context for context, _ in dev], options=options, reranker=reranker, draws=draws)
        tried[name] = scores(replies, [reply for _, reply in dev])
        print(f"dialogue: ours, dev, {name}: {brief(tried[name])}", flush=True)
    best = choose(tried)
    options, reranker, draws = settings[best]
    started = time.perf_counter()
    test = forward.evaluate_dialogue(data["test"], options=options, reranker=reranker, draws=draws)
    test["seconds"] = time.perf_counter() - started
    unguarded = None
    if reranker is not None:  # the guard's effect on test: the same search, not reranked (one draw)
        started = time.perf_counter()
        unguarded = forward.evaluate_dialogue(data["test"], options=options)
        unguarded["seconds"] = time.perf_counter() - started
    training = forward.info.get("training", {})
    return {"name": "keras-seq2seq", "dev": tried, "chosen": best, "test": test, "unguarded": unguarded,
            "minutes": minutes,
            "epochs": training.get("epochs"), "best": training.get("best"),
            "train_tokens_per_second": training.get("target_tokens_per_second")}


def train_in_own_process(folder: Path, name: str, train: list, dev: list, out: Path, minutes: float) -> None:
    """`seq2seq train --preset dailydialog-small` on these pairs, written as `context<TAB>reply`
    files, in a process of its own. Training and decoding in one process ran out of Linux's memory
    mappings (65,530): the compiled programs of both stayed mapped."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, pairs in (("train", train), ("dev", dev)):
        files[split] = folder / f"{name}-{split}.tsv"
        files[split].write_text("".join(f"{source}\t{target}\n" for source, target in pairs), encoding="utf-8")
    command = [sys.executable, "-m", "keras_seq2seq.cli", "train", "--data", str(files["train"]),
               "--dev", str(files["dev"]), "--preset", "dailydialog-small", "--max-minutes", f"{minutes:g}",
               "--out", str(out), "--overwrite"]
    print(f"dialogue: {shlex.join(command[2:])}", flush=True)
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}
    if subprocess.run(command, env=env).returncode != 0:
        print(f"dialogue: training the {name} model failed (its output is above)", file=sys.stderr)
        raise SystemExit(1)


def our_settings(MmiReranker, reverse_bundle) -> dict:
    """Name -> (SearchOptions, reranker or None, draws): the decodings ours is tried with."""
    from keras_seq2seq.search.options import Sampling, SearchOptions

    beam = SearchOptions(beam_size=10, length_penalty=1.0, no_repeat_ngram=3)
    warm = SearchOptions(sampling=Sampling(0.8, 0, 0.9), no_repeat_ngram=3, seed=1)
    # Ten draws each, ranked with the length penalty (summed log-probabilities alone favour short replies).
    warm_draws, hot_draws = (SearchOptions(sampling=Sampling(temperature, 0, 0.9), no_repeat_ngram=3, seed=1,
                                           length_penalty=1.0) for temperature in (0.8, 1.0))
    mmi = MmiReranker(reverse_bundle, 1.0)
    return {
        "greedy": (SearchOptions(), None, 1),
        "beam 5": (SearchOptions(beam_size=5), None, 1),
        "beam 10, length penalty 1, no repeated 3-grams": (beam, None, 1),
        "the same, MMI reranked (weight 0.5)": (beam, MmiReranker(reverse_bundle, 0.5), 1),
        "the same, MMI reranked (weight 1.0)": (beam, mmi, 1),
        "sampling (T 0.8, top-p 0.9)": (warm, None, 1),
        "sampling (T 0.8, top-p 0.9), the likeliest of 10 draws (length penalty 1)": (warm_draws, None, 10),
        "sampling (T 0.8, top-p 0.9), 10 draws, length penalty 1, MMI reranked (weight 1.0)": (warm_draws, mmi, 10),
        "sampling (T 1.0, top-p 0.9), 10 draws, length penalty 1, MMI reranked (weight 1.0)": (hot_draws, mmi, 10),
    }


# ----------------------------------------------------------------------------- the peer
def run_peer(args, data: dict, tokenize) -> dict | None:
    """OpenNMT-py in its own venv, on our tokens: train (or take --peer-model), try its settings on
    dev, decode the test split with the best, scoring the reference replies on the way."""
    from opennmt_peer import ensure_venv

    python = ensure_venv()
    work = (args.work / "peer").resolve()
    work.mkdir(parents=True, exist_ok=True)
    train = [(s, t) for s, t in data["train"] if within_limits(tokenize, s, t)]
    write_tokens(work / "train", train, tokenize)
    write_tokens(work / "dev", data["dev_sample"], tokenize)
    write_tokens(work / "test", data["test"], tokenize)
    side = [str(python), str(HERE / "dialogue_peer.py")]
    if args.peer_model:
        trained = {"checkpoint": str(args.peer_model.resolve()), "minutes": 0.0}
    else:
        busy_warning("dialogue")
        print(f"dialogue: OpenNMT-py trains for {args.minutes:g} minutes in {work}", flush=True)
        trained = run_side([*side, "train", "--work", str(work), "--minutes", str(args.minutes),
                            "--save-steps", str(args.peer_save_steps)],
                           "dialogue: OpenNMT-py's training")
        if trained is None:
            return None
    from keras_seq2seq.text.tokenizers import WordTokenizer

    detokenize = WordTokenizer().detokenize
    tried = {}
    for i, (name, options) in enumerate(PEER_SETTINGS.items()):
        out = work / f"dev.{i}.out"
        if run_side([*side, "translate", "--model", trained["checkpoint"], "--src", str(work / "dev.src"),
                     "--out", str(out), "--options", options], f"dialogue: OpenNMT-py on dev ({name})") is None:
            continue
        replies = [detokenize(line.split()) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
        tried[name] = scores(replies, [reply for _, reply in data["dev_sample"]])
        print(f"dialogue: peer, dev, {name}: {brief(tried[name])}", flush=True)
    if not tried:
        return None
    best = choose(tried)
    out = work / "test.out"
    decoded = run_side([*side, "translate", "--model", trained["checkpoint"], "--src", str(work / "test.src"),
                        "--tgt", str(work / "test.tgt"), "--out", str(out), "--options", PEER_SETTINGS[best]],
                       "dialogue: OpenNMT-py on test")
    if decoded is None:
        return None
    replies = [detokenize(line.split()) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
    test = scores(replies, [reply for _, reply in data["test"]])
    tokens = sum(len(tokenize(reply)) + 1 for _, reply in data["test"])  # + </s>, as OpenNMT-py scores it
    test.update(perplexity=math.exp(-decoded["gold_log_prob"] / tokens), hypotheses=replies,
                seconds=decoded["seconds"])
    return {"name": "OpenNMT-py 3.5.1", "dev": tried, "chosen": best, "test": test, "trained": trained}


def write_tokens(stem: Path, pairs, tokenize) -> None:
    """`<stem>.src` and `<stem>.tgt`: our tokens of each side, joined by spaces, a pair a line."""
    for suffix, side in ((".src", 0), (".tgt", 1)):
        stem.with_suffix(suffix).write_text("".join(" ".join(tokenize(pair[side])) + "\n" for pair in pairs),
                                            encoding="utf-8")


# ----------------------------------------------------------------------------- scores
def scores(replies: list[str], references: list[str]) -> dict:
    from keras_seq2seq import metrics

    return metrics.dialogue_scores(replies, references)


def brief(found: dict) -> str:
    return (f"BLEU {found['bleu']:.2f}, Distinct-2 {found['distinct2']:.3f}, length {found['mean_length']:.1f}, "
            f"top-10 share {found['top10_share']:.3f}")


def choose(tried: dict) -> str:
    """The highest dev BLEU among settings whose top-10 share is under the limit (else overall)."""
    qualified = [name for name, found in tried.items() if found["top10_share"] < TOP_SHARE_LIMIT] or list(tried)
    return max(qualified, key=lambda name: tried[name]["bleu"])


def report(args, data: dict, ours: dict, peer: dict | None) -> None:
    sides = [ours] + ([peer] if peer else [])
    columns = [ours] + ([{"name": "keras-seq2seq without MMI", "chosen": "the same search, not reranked (one draw)",
                          "test": ours["unguarded"]}] if ours["unguarded"] else []) + ([peer] if peer else [])
    for side in sides:
        print_table([f"{side['name']} on {len(data['dev_sample']):,} dev contexts", "BLEU", "Distinct-1",
                     "Distinct-2", "mean length", "top-10 share", ""],
                    [[name, f"{f['bleu']:.2f}", f"{f['distinct1']:.4f}", f"{f['distinct2']:.4f}",
                      f"{f['mean_length']:.1f}", f"{f['top10_share']:.3f}", "chosen" if name == side["chosen"] else ""]
                     for name, f in side["dev"].items()])
    rows = [["decoding", *(side["chosen"] for side in columns)]]
    for label, key, fmt in (("perplexity (reference replies)", "perplexity", "{:.2f}"), ("BLEU", "bleu", "{:.2f}"),
                            ("Distinct-1", "distinct1", "{:.4f}"), ("Distinct-2", "distinct2", "{:.4f}"),
                            ("mean reply length", "mean_length", "{:.1f}"),
                            ("top-10 share", "top10_share", "{:.3f}"), ("decoding seconds", "seconds", "{:.0f}")):
        rows.append([label, *(fmt.format(side["test"][key]) for side in columns)])
    trained = f"{ours['minutes']['forward']:.1f} + {ours['minutes']['reverse']:.1f} (reverse)"
    rows.append(["training minutes", trained, *([trained] if ours["unguarded"] else []),
                 *([f"{peer['trained']['minutes']:.1f}"] if peer else [])])
    print(f"\ntest: {len(data['test']):,} DailyDialog contexts; BLEU {ours['test']['signatures']['bleu']}; "
          f"epochs trained (ours): {ours['epochs']}")
    print_table(["", *(side["name"] for side in columns)], rows)
    examples = write_examples(args, data, ours, peer)
    write_json(args.work / "results.json", {
        "date": date.today().isoformat(), "command": " ".join(shlex.quote(a) for a in sys.argv),
        **{side["name"]: {k: v for k, v in side.items() if k not in ("test", "unguarded")} for side in sides},
        "test": {side["name"]: {k: v for k, v in side["test"].items() if k != "hypotheses"} for side in columns}})
    print(f"\ndialogue: {EXAMPLES} test examples in {examples}, figures in {args.work / 'results.json'}")
    line = {"corpus": "dailydialog", "ppl": f"{ours['test']['perplexity']:.2f}", "bleu": f"{ours['test']['bleu']:.2f}",
            "distinct1": f"{ours['test']['distinct1']:.4f}", "distinct2": f"{ours['test']['distinct2']:.4f}",
            "top10_share": f"{ours['test']['top10_share']:.3f}"}
    if peer:
        line.update(peer_ppl=f"{peer['test']['perplexity']:.2f}", peer_bleu=f"{peer['test']['bleu']:.2f}",
                    peer_distinct2=f"{peer['test']['distinct2']:.4f}")
    last_line("dialogue", {**line, "minutes": f"{args.minutes:g}"})


def write_examples(args, data: dict, ours: dict, peer: dict | None) -> Path:
    """Twenty test contexts picked by a fixed seed, with each side's reply and the reference."""
    from keras_seq2seq.data.dialogue import SEPARATOR

    path = args.examples or args.work / "examples.md"
    picked = sorted(random.Random(EXAMPLE_SEED).sample(range(len(data["test"])), min(EXAMPLES, len(data["test"]))))
    header = ["#", "context (last turns, oldest first)", "keras-seq2seq", *(["OpenNMT-py"] if peer else []), "reference"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for i in picked:
        context, reference = data["test"][i]
        cells = [str(i), context.replace(SEPARATOR, " / "), ours["test"]["hypotheses"][i],
                 *([peer["test"]["hypotheses"][i]] if peer else []), reference]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.exit(main())
