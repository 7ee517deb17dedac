"""Speed side by side: keras-seq2seq and OpenNMT-py 3.5.1, same data, same model sizes.

    .venv/bin/python bench/speed.py                  # 2 configurations x 2 data sets, 3 repeats
    .venv/bin/python bench/speed.py --quick          # real data only, 1 repeat, fewer steps
    .venv/bin/python bench/speed.py --json bench/results/speed.json
    .venv/bin/python bench/speed.py --datasets real --batch-tokens 2048   # also both with token batches
    .venv/bin/python bench/speed.py --configs tfm --datasets real   # the Transformer, with CTranslate2

Two configurations (`std`: no attention; `att`: bidirectional encoder, Luong general attention,
input feeding; and, when asked for, `tfm`: a Transformer, whose OpenNMT-py model CTranslate2
also decodes, float32 and int8) on two data sets (`real` spa-eng, `synthetic`); each toolkit runs in a fresh
process per (configuration, data set, repeat), order alternating, training `--steps` batches
from scratch and then decoding the test sentences (bench/speed_ours.py, bench/speed_peer.py).
bench/README.md has the sizes and what each figure counts. The last line is the worst ratio
keras-seq2seq / OpenNMT-py over the configurations, our lowest share of the float32 matmul peak,
then the shortlist's ratios; with `--batch-tokens N` (each toolkit also trained on batches of about
N target tokens, OpenNMT-py with its own `batch_type tokens`), the worst ratio with token batches
on both sides and the worst gain of our token batches over our sentence batches; with `tfm`, our
decoding against CTranslate2 int8's:

    speed: train=…x greedy=…x beam5=…x peak_share=… greedy_shortlist=…x beam5_shortlist=…x
           train_tokens=…x token_gain=…x greedy_vs_ct2_int8=…x beam5_vs_ct2_int8=…x   (one line)
"""

from __future__ import annotations

import math
import os
import random
import sys
from pathlib import Path

from common import (DATA_DIR, HERE, argument_parser, busy_warning, last_line, median, pair_dir, print_table,
                    ratio, read_columns, run_side, write_json)

CONFIGS = {"std": [], "att": ["--attention"], "tfm": ["--transformer"]}  # name -> the sides' model flags
TOOLKITS = ("ours", "peer")
NAMES = {"ours": "keras-seq2seq", "peer": "OpenNMT-py 3.5.1"}
MAX_TOKENS = 30            # real training pairs longer than this on either side are dropped
SYNTHETIC_LENGTHS = (10, 30)
# (label, key, format): the rows shown per configuration.
ROWS = [
    ("train target tok/s", "train_tokens_per_second", "{:,.0f}"),
    ("target tokens per batch", "target_tokens_per_batch", "{:,.0f}"),
    ("target padding share", "padding_share", "{:.3f}"),
    ("compile s", "compile_seconds", "{:.0f}"),
    ("useful GFLOP/s", "useful_gflops", "{:.1f}"),
    ("share of matmul peak", "peak_share", "{:.2f}"),
    ("greedy sent/s", "greedy_sentences_per_second", "{:,.0f}"),
    ("beam5 sent/s", "beam5_sentences_per_second", "{:,.0f}"),
    ("greedy sent/s, shortlist", "greedy_shortlist_sentences_per_second", "{:,.0f}"),
    ("beam5 sent/s, shortlist", "beam5_shortlist_sentences_per_second", "{:,.0f}"),
    ("greedy BLEU", "greedy_bleu", "{:.2f}"),
    ("greedy BLEU, shortlist", "greedy_shortlist_bleu", "{:.2f}"),
    ("beam5 BLEU", "beam5_bleu", "{:.2f}"),
    ("beam5 BLEU, shortlist", "beam5_shortlist_bleu", "{:.2f}"),
    ("greedy mean output tokens", "greedy_mean_length", "{:.1f}"),
    ("beam5 mean output tokens", "beam5_mean_length", "{:.1f}"),
    ("peak RSS MB", "peak_rss_mb", "{:,.0f}"),
]
# tfm only: our decoding beside the peer's model run by CTranslate2 (its figure in the peer's column).
CT2_KEYS = {f"ct2_{q}_{search}_sentences_per_second": f"{search}_sentences_per_second"
            for q in ("float32", "int8") for search in ("greedy", "beam5")}
ROWS += [(f"{search} sent/s vs CTranslate2 {q}", f"ct2_{q}_{search}_sentences_per_second", "{:,.0f}")
         for q in ("float32", "int8") for search in ("greedy", "beam5")]
# Our shortlist figures are compared with the peer's only decoding (it has no shortlist).
PEER_KEY = {"greedy_shortlist_sentences_per_second": "greedy_sentences_per_second",
            "beam5_shortlist_sentences_per_second": "beam5_sentences_per_second",
            "greedy_shortlist_bleu": "greedy_bleu", "beam5_shortlist_bleu": "beam5_bleu"}


def parse_args(argv: list[str] | None):
    parser = argument_parser(__doc__)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder of <pair>/ splits")
    parser.add_argument("--pair", default="spa-eng", help="real data: language pair folder (source = 2nd column)")
    parser.add_argument("--quick", action="store_true", help="real data only, 1 repeat, 200 steps")
    parser.add_argument("--repeats", type=int, help="runs per toolkit and configuration (default 3; quick 1)")
    parser.add_argument("--steps", type=int, help="training batches per run (default 300; quick 200)")
    parser.add_argument("--configs", default="std,att", help="comma-separated: std, att, tfm")
    parser.add_argument("--datasets", help="comma-separated: real, synthetic (default both; quick: real)")
    parser.add_argument("--sentences", type=int, default=1000, help="test sentences decoded")
    parser.add_argument("--vocab", type=int, default=8000, help="vocabulary cap per side (4 specials included)")
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tfm-units", type=int, default=256, help="tfm: model size")
    parser.add_argument("--tfm-layers", type=int, default=3, help="tfm: blocks per side")
    parser.add_argument("--tfm-heads", type=int, default=4, help="tfm: attention heads")
    parser.add_argument("--tfm-ffn", type=int, default=1024, help="tfm: feed-forward size")
    parser.add_argument("--batch-tokens", type=int, default=0,
                        help="also train both toolkits on batches of about N target tokens (0: not)")
    parser.add_argument("--shortlist", type=int, default=2048,
                        help="keras-seq2seq also decodes with a vocabulary shortlist of this size (0: not)")
    parser.add_argument("--work", type=Path, default=HERE / "results" / "speed", help="data and runs go here")
    parser.add_argument("--json", type=Path, help="write every figure (each repeat, medians, ratios) here")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.steps = args.steps or (200 if args.quick else 300)
    args.datasets = (args.datasets or ("real" if args.quick else "real,synthetic")).split(",")
    args.configs = args.configs.split(",")
    for name, chosen, allowed in (("--configs", args.configs, CONFIGS),
                                  ("--datasets", args.datasets, ("real", "synthetic"))):
        if not chosen or any(c not in allowed for c in chosen):
            parser.error(f"{name} takes a comma-separated list of {', '.join(allowed)}")
    return args


# ----------------------------------------------------------------------------- the data sets
def real_pairs(folder: Path, test_sentences: int) -> dict[str, list[tuple[list[str], list[str]]]]:
    """(source, target) token lists of a Tatoeba pair, split by keras-seq2seq's word tokeniser,
    which leaves space-separated tokens as they are: both toolkits then see the same tokens."""
    from keras_seq2seq.text.tokenizers import WordTokenizer

    split = WordTokenizer().tokenize
    train = [(split(source), split(english)) for english, source in read_columns(folder / "train.tsv")]
    train = [(s, t) for s, t in train if 0 < len(s) <= MAX_TOKENS and 0 < len(t) <= MAX_TOKENS]
    test = [(split(source), split(english)) for english, source in read_columns(folder / "test.tsv", test_sentences)]
    return {"train": train, "test": test}


def synthetic_pairs(train: int, test: int, vocab: int) -> dict[str, list[tuple[list[str], list[str]]]]:
    """Random `s<id>`/`t<id>` words from `vocab - 4` per side (the whole vocabulary fits under the
    cap), target as long as its source (a length a model can learn to stop at), fixed seed."""
    rng = random.Random(1234)
    words = vocab - 4  # <pad> <unk> <bos> <eos> (keras-seq2seq); <unk> <blank> <s> </s> (OpenNMT-py)

    def pair():
        length = rng.randint(*SYNTHETIC_LENGTHS)
        return [f"s{rng.randrange(words)}" for _ in range(length)], [f"t{rng.randrange(words)}" for _ in range(length)]

    return {"train": [pair() for _ in range(train)], "test": [pair() for _ in range(test)]}


def write_data(folder: Path, splits: dict) -> dict:
    """`folder/{train,test}.tsv` (space-joined tokens); the length statistics the FLOP count needs."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, pairs in splits.items():
        (folder / f"{split}.tsv").write_text("".join(" ".join(s) + "\t" + " ".join(t) + "\n" for s, t in pairs),
                                             encoding="utf-8")
    train = splits["train"]
    return {
        "folder": str(folder), "train_pairs": len(train), "test_pairs": len(splits["test"]),
        "source_tokens": sum(len(s) for s, _ in train),
        "target_tokens": sum(len(t) + 1 for _, t in train),  # + <eos>
        "source_x_target": sum(len(s) * (len(t) + 1) for s, t in train),
        "source_squared": sum(len(s) ** 2 for s, _ in train),
        "target_triangle": sum((len(t) + 1) * (len(t) + 2) // 2 for _, t in train),  # Σ (t + 1), t < T_i
        "max_target_tokens": max(len(t) + 1 for _, t in train),
    }


def flops_per_target_token(stats: dict, attention: bool, embedding: int, units: int, vocab: int) -> float:
    """Useful training FLOPs per real target token: 3 x the forward products (multiply-add = 2),
    padding never counted; the formula term by term is in bench/README.md."""
    E, H, V = embedding, units, vocab
    S, T, ST = stats["source_tokens"], stats["target_tokens"], stats["source_x_target"]
    if attention:
        forward = S * 8 * H * (E + H / 2) + T * (8 * H * (E + 2 * H) + 6 * H * H + 2 * H * V) + 4 * H * ST
    else:
        forward = S * 8 * H * (E + H) + T * (8 * H * (E + H) + 2 * H * V)
    return 3 * forward / T


def transformer_flops_per_target_token(stats: dict, dim: int, ffn: int, layers: int, vocab: int) -> float:
    """The same for the Transformer (`tfm`, as many decoder blocks as encoder blocks; bench/README.md)."""
    D, F, V = dim, ffn, vocab
    S, T, ST = stats["source_tokens"], stats["target_tokens"], stats["source_x_target"]
    encoder = layers * (S * (8 * D * D + 4 * D * F) + 4 * D * stats["source_squared"])
    decoder = layers * (T * (12 * D * D + 4 * D * F) + S * 4 * D * D + 4 * D * stats["target_triangle"]
                        + 4 * D * ST)
    return 3 * (encoder + decoder + T * 2 * D * V) / T


def prepare_data(args) -> dict[str, dict]:
    """Write the TSVs both toolkits read; return each data set's length statistics."""
    stats = {}
    if "real" in args.datasets:
        stats["real"] = write_data(args.work / "real", real_pairs(args.data_dir / args.pair, args.sentences))
    if "synthetic" in args.datasets:
        splits = synthetic_pairs(max(25_600, args.steps * args.batch_size), args.sentences, args.vocab)
        stats["synthetic"] = write_data(args.work / "synthetic", splits)
    for name, s in stats.items():
        print(f"speed: {name}: {s['train_pairs']:,} training pairs, {s['test_pairs']:,} test sentences, "
              f"mean target {s['target_tokens'] / s['train_pairs']:.1f} tokens (+<eos>) in {s['folder']}",
              flush=True)
    return stats


# ----------------------------------------------------------------------------- the runs
def side_command(args, toolkit: str, config: str, dataset: str, batching: str, peer_python: Path) -> list[str]:
    common = ["--data", str(args.work / dataset), "--steps", str(args.steps), "--batch-size",
              str(args.batch_size), "--batch-tokens", str(args.batch_tokens if batching == "tokens" else 0),
              "--vocab", str(args.vocab), "--embedding", str(args.embedding),
              "--units", str(args.tfm_units if config == "tfm" else args.units), "--sentences", str(args.sentences),
              "--max-length", str(args.max_length[dataset]), *CONFIGS[config]]
    if config == "tfm":
        common += ["--layers", str(args.tfm_layers), "--heads", str(args.tfm_heads), "--ffn-dim", str(args.tfm_ffn)]
    if toolkit == "ours":
        return [sys.executable, str(HERE / "speed_ours.py"), *common, "--shortlist", str(args.shortlist)]
    return [str(peer_python), str(HERE / "speed_peer.py"), *common,
            "--run", str(args.work / "runs" / f"{config}-{dataset}-{batching}-opennmt")]


def matmul_peak() -> dict:
    figures = run_side([sys.executable, str(HERE / "speed_ours.py"), "--matmul"], "speed: matmul peak")
    if figures is None:
        raise SystemExit("speed: could not measure the matmul peak")
    print(f"speed: float32 matmul peak {figures['gflops']:.0f} GFLOP/s "
          f"(numpy {figures['numpy_gflops']:.0f}, jax {figures['jax_gflops']:.0f})", flush=True)
    return figures


def summarise(runs: dict, stats: dict, args, peak: float) -> dict:
    """Median figures per (config/dataset, toolkit), with useful GFLOP/s and peak share added."""
    summary = {}
    for combo, by_toolkit in runs.items():
        config, dataset = combo.split("/")[:2]
        if config == "tfm":
            per_token = transformer_flops_per_target_token(stats[dataset], args.tfm_units, args.tfm_ffn,
                                                           args.tfm_layers, args.vocab)
        else:
            per_token = flops_per_target_token(stats[dataset], config == "att", args.embedding, args.units,
                                               args.vocab)
        summary[combo] = {"flops_per_target_token": round(per_token)}
        for toolkit, results in by_toolkit.items():
            medians = {key: median(r.get(key) for r in results) for _, key, _ in ROWS}
            rate = medians["train_tokens_per_second"]
            medians["useful_gflops"] = rate * per_token / 1e9 if rate else None
            medians["peak_share"] = medians["useful_gflops"] / peak if rate else None
            medians["runs"] = len(results)
            summary[combo][toolkit] = medians
        if any(summary[combo].get("peer", {}).get(key) is not None for key in CT2_KEYS):
            for key, ours in CT2_KEYS.items():  # our figure on the CTranslate2 rows
                summary[combo]["ours"][key] = summary[combo]["ours"].get(ours)
    return summary


def combo_ratio(summary: dict, combo: str, key: str) -> float | None:
    return ratio(summary[combo]["ours"].get(key), summary[combo]["peer"].get(PEER_KEY.get(key, key)))


def print_summary(summary: dict, peak: dict) -> None:
    print(f"\nfloat32 matmul peak: {peak['gflops']:.0f} GFLOP/s (best median of numpy/JAX 2048² matmul, "
          f"before and after)")
    rows = []
    for combo, figures in summary.items():
        for label, key, fmt in ROWS:
            found = combo_ratio(summary, combo, key)
            rows.append([combo, label, *(fmt.format(figures[t][key]) if figures[t].get(key) is not None else "–"
                                         for t in TOOLKITS),
                         f"{found:.2f}" if found is not None and key != "compile_seconds" else ""])
    print_table(["configuration / data", "figure", NAMES["ours"], NAMES["peer"], "ratio"], rows)


def headline(summary: dict) -> dict:
    """The last line's fields: worst ratios over the configurations, our lowest share of the peak."""
    def worst(values):
        values = [v for v in values if v is not None]
        return min(values) if values else None

    fields = {}
    sentences = [combo for combo in summary if not combo.endswith("/tokens")]
    for name, key in (("train", "train_tokens_per_second"), ("greedy", "greedy_sentences_per_second"),
                      ("beam5", "beam5_sentences_per_second")):
        found = worst(combo_ratio(summary, combo, key) for combo in sentences)
        fields[name] = f"{found:.2f}x" if found is not None else "n/a"
    share = worst(summary[combo]["ours"].get("peak_share") for combo in sentences)
    fields["peak_share"] = f"{share:.2f}" if share is not None else "n/a"
    for name in ("greedy", "beam5"):  # absent when run with --shortlist 0
        found = worst(combo_ratio(summary, combo, f"{name}_shortlist_sentences_per_second") for combo in summary)
        if found is not None:
            fields[f"{name}_shortlist"] = f"{found:.2f}x"
    tokens = [combo for combo in summary if combo.endswith("/tokens")]
    if tokens:
        found = worst(combo_ratio(summary, combo, "train_tokens_per_second") for combo in tokens)
        fields["train_tokens"] = f"{found:.2f}x" if found is not None else "n/a"
        gain = worst(ratio(summary[combo]["ours"].get("train_tokens_per_second"),
                           summary[combo.removesuffix("/tokens")]["ours"].get("train_tokens_per_second"))
                     for combo in tokens)
        fields["token_gain"] = f"{gain:.2f}x" if gain is not None else "n/a"
    for name, key in (("greedy_vs_ct2_int8", "ct2_int8_greedy_sentences_per_second"),
                      ("beam5_vs_ct2_int8", "ct2_int8_beam5_sentences_per_second")):
        found = worst(combo_ratio(summary, combo, key) for combo in sentences)
        if found is not None:
            fields[name] = f"{found:.2f}x"
    return fields


def print_batchings(summary: dict) -> None:
    """Each toolkit's token batches against its sentence batches: speed and padding."""
    rows = []
    for combo in (c for c in summary if c.endswith("/tokens")):
        plain = combo.removesuffix("/tokens")
        for toolkit in TOOLKITS:
            tokens, sentences = summary[combo][toolkit], summary[plain][toolkit]
            gain = ratio(tokens.get("train_tokens_per_second"), sentences.get("train_tokens_per_second"))
            rows.append([plain, NAMES[toolkit],
                         *(f"{f['train_tokens_per_second']:,.0f}" if f.get("train_tokens_per_second") else "–"
                           for f in (sentences, tokens)),
                         f"{gain:.2f}" if gain else "–",
                         *(f"{f['padding_share']:.3f}" if f.get("padding_share") is not None else "–"
                           for f in (sentences, tokens))])
    if rows:
        print("\ntoken batches against sentence batches (train target tok/s; target padding share)")
        print_table(["configuration / data", "toolkit", "sentences", "tokens", "gain", "padding, sentences",
                     "padding, tokens"], rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "real" in args.datasets:
        pair_dir("speed", args.data_dir, args.pair)
    from opennmt_peer import ensure_venv

    try:
        peer_python = ensure_venv()
    except SystemExit as error:
        print(error, file=sys.stderr)
        return 2
    load_before = busy_warning("speed")
    stats = prepare_data(args)
    # The same generation limit for both toolkits: keras-seq2seq's own rule from the training data.
    args.max_length = {name: int(math.ceil(s["max_target_tokens"] * 1.5)) + 2 for name, s in stats.items()}
    peaks = [matmul_peak()]
    batchings = ("sentences", "tokens") if args.batch_tokens else ("sentences",)
    combos = [(c, d, b) for d in args.datasets for c in args.configs for b in batchings]
    name = {combo: "/".join(combo[:2]) + ("/tokens" if combo[2] == "tokens" else "") for combo in combos}
    runs = {name[combo]: {t: [] for t in TOOLKITS} for combo in combos}
    for repeat in range(args.repeats):
        for index, combo in enumerate(combos):
            config, dataset, batching = combo
            for toolkit in TOOLKITS if (repeat + index) % 2 == 0 else TOOLKITS[::-1]:
                label = f"speed: {NAMES[toolkit]} {name[combo]} run {repeat + 1}/{args.repeats}"
                print(f"{label} ...", flush=True)
                figures = run_side(side_command(args, toolkit, config, dataset, batching, peer_python), label)
                if figures is not None:
                    runs[name[combo]][toolkit].append(figures)
                    print(f"speed:   {figures['train_tokens_per_second']:,.0f} tok/s, greedy "
                          f"{figures['greedy_sentences_per_second']:,.0f} sent/s, beam5 "
                          f"{figures['beam5_sentences_per_second']:,.0f} sent/s, "
                          f"{figures['wall_seconds']:.0f} s", flush=True)
    peaks.append(matmul_peak())
    peak = max(peaks, key=lambda p: p["gflops"])
    summary = summarise(runs, stats, args, peak["gflops"])
    print_summary(summary, peak)
    print_batchings(summary)
    load_after = os.getloadavg()[0]
    print(f"\nload average {load_before:.1f} before, {load_after:.1f} after; {args.repeats} repeat(s), "
          f"{args.steps} training steps per run")
    line = last_line("speed", headline(summary))
    if args.json:
        write_json(args.json, {
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "data": stats, "matmul_peaks": peaks, "runs": runs, "medians": summary,
            "load_average": [load_before, load_after], "line": line})
    return 0


if __name__ == "__main__":
    sys.exit(main())
