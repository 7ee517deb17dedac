"""Speed side by side: keras-seq2seq and OpenNMT-py 3.5.1, same data, same model sizes.

    .venv/bin/python bench/speed.py                  # 2 configurations x 2 data sets, 3 repeats
    .venv/bin/python bench/speed.py --quick          # real data only, 1 repeat, fewer steps
    .venv/bin/python bench/speed.py --json bench/results/speed.json
    .venv/bin/python bench/speed.py --configs tfm --datasets real   # the Transformer, with CTranslate2

Configurations (both toolkits): vocabulary 8k/8k words, embedding 256, one LSTM layer of 512
units each side, no dropout, Adam 1e-3, batches of 64 sentences.
- std: unidirectional encoder, no attention (OpenNMT-py: rnn encoder, global_attention none).
- att: bidirectional encoder (2 x 256), Luong "general" attention with input feeding
  (OpenNMT-py: encoder_type brnn, global_attention general, input_feed 1).
- tfm (not in the default --configs): a Transformer, model size 256, 3 blocks per side, 4 heads,
  feed-forward 1,024 (`--tfm-*`), the inverse-sqrt ("noam") schedule peaking at 1e-3 after 100
  steps, otherwise as above (OpenNMT-py: encoder_type/decoder_type transformer). Its OpenNMT-py
  model is also converted to CTranslate2 4.8.5 (float32 and int8 weights) and decodes the same
  sentences: rows "... CTranslate2 ..." hold our figure beside CTranslate2's and their ratio.
Data sets (bench/speed_data.py): real = ../shared/data/spa-eng (spa→eng, word level, <= 30
tokens), synthetic = random ids, lengths 10–30. Both toolkits read the same tokenised TSVs.

Each (configuration, data set, repeat) runs each toolkit in a fresh process, the order
alternating, training for `--steps` batches from scratch and then decoding 1,000 test
sentences with the model it just trained (bench/speed_ours.py, bench/speed_peer.py say exactly
what they time). Figures are medians over the repeats:
- train tok/s: steady-state real target tokens per second (words + end token, padding
  excluded; batches compiling a new shape excluded; OpenNMT-py: its logged windows after the
  first). "compile s" is keras-seq2seq's wall time beyond that steady rate.
- useful GFLOP/s: train tok/s × useful FLOPs per target token (formula in bench/speed_data.py),
  and its share of the float32 matmul peak (2048², numpy and JAX, the better median) measured
  in this run, before and after the toolkits (the higher is used).
- greedy / beam5 sent/s: 1,000 sentences, batches of 64, each sentence stopping at its own end
  token, model load and compilation excluded; the mean output length (tokens, end token
  excluded) is shown too, since a model that never stops decodes slower.
- peak RSS: the high-water mark of each toolkit's process(es).
- shortlist rows: keras-seq2seq decoding again with the vocabulary shortlist its training built
  (`--shortlist 2048` words per batch; `search/shortlist.py`), against OpenNMT-py's only decoding;
  BLEU of each of our decodings against the 1,000 references (sacrebleu) shows what it costs.
The last line is machine-readable, the worst ratio keras-seq2seq / OpenNMT-py over the
configurations and keras-seq2seq's lowest share of the matmul peak, then the shortlist's ratios:

    speed: train=1.62x greedy=3.40x beam5=2.20x peak_share=0.63 greedy_shortlist=3.90x beam5_shortlist=2.60x
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import speed_data  # noqa: E402

DEFAULT_DATA = HERE.parent.parent / "shared" / "data"
CONFIGS = {"std": [], "att": ["--attention"], "tfm": ["--transformer"]}  # name -> the workers' model flags
TOOLKITS = ("ours", "peer")
NAMES = {"ours": "keras-seq2seq", "peer": "OpenNMT-py 3.5.1"}
# (label, key, format, higher is better): the rows shown per configuration.
ROWS = [
    ("train target tok/s", "train_tokens_per_second", "{:,.0f}"),
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
# tfm only: our decoding beside the peer's model run by CTranslate2 (our figure, CTranslate2's).
CT2_ROWS = {f"ct2_{q}_{search}_sentences_per_second": f"{search}_sentences_per_second"
            for q in ("float32", "int8") for search in ("greedy", "beam5")}
ROWS += [(f"{search} sent/s vs CTranslate2 {q}", f"ct2_{q}_{search}_sentences_per_second", "{:,.0f}")
         for q in ("float32", "int8") for search in ("greedy", "beam5")]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="folder of <pair>/ splits")
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
    parser.add_argument("--shortlist", type=int, default=2048,
                        help="keras-seq2seq also decodes with a vocabulary shortlist of this size (0: not)")
    parser.add_argument("--work", type=Path, default=HERE / "results" / "speed", help="data and runs go here")
    parser.add_argument("--json", type=Path, help="write every figure (each repeat, medians, ratios) here")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.steps = args.steps or (200 if args.quick else 300)
    args.datasets = (args.datasets or ("real" if args.quick else "real,synthetic")).split(",")
    args.configs = args.configs.split(",")
    for name, chosen, allowed in (("--configs", args.configs, CONFIGS), ("--datasets", args.datasets,
                                                                        ("real", "synthetic"))):
        if not chosen or any(c not in allowed for c in chosen):
            parser.error(f"{name} takes a comma-separated list of {', '.join(allowed)}")
    return args


def prepare_data(args) -> dict[str, dict]:
    """Write the TSVs both toolkits read; return each data set's length statistics."""
    stats = {}
    if "real" in args.datasets:
        pair_dir = args.data_dir / args.pair
        splits = speed_data.real_pairs(pair_dir, args.sentences)
        stats["real"] = speed_data.prepare(args.work, "real", splits)
    if "synthetic" in args.datasets:
        train = max(25_600, args.steps * args.batch_size)
        splits = speed_data.synthetic_pairs(train, args.sentences, args.vocab)
        stats["synthetic"] = speed_data.prepare(args.work, "synthetic", splits)
    for name, s in stats.items():
        print(f"speed: {name}: {s['train_pairs']:,} training pairs, {s['test_pairs']:,} test sentences, "
              f"mean target {s['target_tokens'] / s['train_pairs']:.1f} tokens (+<eos>) in {s['folder']}",
              flush=True)
    return stats


def run_worker(command: list[str], label: str) -> dict | None:
    """Run one measuring process; its JSON figures, or None (with its output's tail) if it failed."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        log = Path(tmp) / "log.txt"
        started = time.monotonic()
        with open(log, "w") as handle:
            code = subprocess.run([*command, "--json", str(out)], stdout=handle, stderr=subprocess.STDOUT,
                                  env={**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}
                                  ).returncode
        if code != 0 or not out.is_file():
            tail = "".join(log.read_text(errors="replace").splitlines(True)[-12:])
            print(f"speed: {label} failed (exit {code}):\n{tail}", file=sys.stderr, flush=True)
            return None
        figures = json.loads(out.read_text())
        figures["wall_seconds"] = round(time.monotonic() - started, 1)
        return figures


def worker_command(args, toolkit: str, config: str, dataset: str, peer_python: Path) -> list[str]:
    units = args.tfm_units if config == "tfm" else args.units
    common = ["--data", str(args.work / dataset), "--steps", str(args.steps), "--batch-size",
              str(args.batch_size), "--vocab", str(args.vocab), "--embedding", str(args.embedding),
              "--units", str(units), "--sentences", str(args.sentences),
              "--max-length", str(args.max_length[dataset]), *CONFIGS[config]]
    if config == "tfm":
        common += ["--layers", str(args.tfm_layers), "--heads", str(args.tfm_heads), "--ffn-dim", str(args.tfm_ffn)]
    if toolkit == "ours":
        return [sys.executable, str(HERE / "speed_ours.py"), *common, "--shortlist", str(args.shortlist)]
    return [str(peer_python), str(HERE / "speed_peer.py"), *common,
            "--run", str(args.work / "runs" / f"{config}-{dataset}-opennmt")]


def matmul_peak() -> dict:
    figures = run_worker([sys.executable, str(HERE / "speed_ours.py"), "--matmul"], "matmul peak")
    if figures is None:
        raise SystemExit("speed: could not measure the matmul peak")
    print(f"speed: float32 matmul peak {figures['gflops']:.0f} GFLOP/s "
          f"(numpy {figures['numpy_gflops']:.0f}, jax {figures['jax_gflops']:.0f})", flush=True)
    return figures


def median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarise(runs: dict, stats: dict, args, peak: float) -> dict:
    """Median figures per (config/dataset, toolkit), with useful GFLOP/s and peak share added."""
    summary = {}
    for combo, by_toolkit in runs.items():
        config, dataset = combo.split("/")
        if config == "tfm":
            per_token = speed_data.transformer_flops_per_target_token(
                stats[dataset], args.tfm_units, args.tfm_ffn, args.tfm_layers, args.tfm_layers, args.vocab)
        else:
            per_token = speed_data.flops_per_target_token(stats[dataset], config == "att", args.embedding,
                                                          args.units, args.vocab)
        summary[combo] = {"flops_per_target_token": round(per_token)}
        for toolkit, results in by_toolkit.items():
            medians = {key: median(results, key) for _, key, _ in ROWS if key not in ("useful_gflops", "peak_share")}
            rate = medians["train_tokens_per_second"]
            medians["useful_gflops"] = rate * per_token / 1e9 if rate else None
            medians["peak_share"] = medians["useful_gflops"] / peak if rate else None
            medians["runs"] = len(results)
            summary[combo][toolkit] = medians
        if any(summary[combo].get("peer", {}).get(key) is not None for key in CT2_ROWS):
            for key, ours in CT2_ROWS.items():  # our figure on the CTranslate2 rows
                summary[combo]["ours"][key] = summary[combo]["ours"].get(ours)
    return summary


# Our shortlist figures are compared with the peer's only decoding (it has no shortlist).
PEER_KEY = {"greedy_shortlist_sentences_per_second": "greedy_sentences_per_second",
            "beam5_shortlist_sentences_per_second": "beam5_sentences_per_second",
            "greedy_shortlist_bleu": "greedy_bleu", "beam5_shortlist_bleu": "beam5_bleu"}


def ratio(summary: dict, combo: str, key: str) -> float | None:
    ours, theirs = summary[combo]["ours"].get(key), summary[combo]["peer"].get(PEER_KEY.get(key, key))
    return ours / theirs if ours is not None and theirs else None


def print_table(summary: dict, peak: dict) -> None:
    print(f"\nfloat32 matmul peak: {peak['gflops']:.0f} GFLOP/s (best median of numpy/JAX 2048² matmul, "
          f"before and after)\n")
    print(f"| configuration / data | figure | {NAMES['ours']} | {NAMES['peer']} | ratio |")
    print("|---|---|---|---|---|")
    for combo, figures in summary.items():
        for label, key, fmt in ROWS:
            shown = [fmt.format(figures[t][key]) if figures[t].get(key) is not None else "–" for t in TOOLKITS]
            found = ratio(summary, combo, key)
            print(f"| {combo} | {label} | {shown[0]} | {shown[1]} | "
                  f"{f'{found:.2f}' if found is not None and key != 'compile_seconds' else ''} |")


def headline(summary: dict) -> str:
    """The last line: worst ratios over the configurations, our lowest share of the peak."""
    def worst(values):
        values = [v for v in values if v is not None]
        return min(values) if values else None

    parts = []
    for name, key in (("train", "train_tokens_per_second"), ("greedy", "greedy_sentences_per_second"),
                      ("beam5", "beam5_sentences_per_second")):
        found = worst(ratio(summary, combo, key) for combo in summary)
        parts.append(f"{name}={found:.2f}x" if found is not None else f"{name}=n/a")
    for name, key in (("greedy_vs_ct2_int8", "ct2_int8_greedy_sentences_per_second"),
                      ("beam5_vs_ct2_int8", "ct2_int8_beam5_sentences_per_second")):
        found = worst(ratio(summary, combo, key) for combo in summary)
        if found is not None:
            parts.append(f"{name}={found:.2f}x")
    share = worst(figures["ours"].get("peak_share") for figures in summary.values())
    parts.append(f"peak_share={share:.2f}" if share is not None else "peak_share=n/a")
    for name in ("greedy", "beam5"):  # absent when run with --shortlist 0
        found = worst(ratio(summary, combo, f"{name}_shortlist_sentences_per_second") for combo in summary)
        if found is not None:
            parts.append(f"{name}_shortlist={found:.2f}x")
    return "speed: " + " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if "real" in args.datasets and not (args.data_dir / args.pair / "train.tsv").is_file():
        print(f"speed: error: no {args.data_dir / args.pair / 'train.tsv'}; give --data-dir (a folder of "
              f"<pair>/{{train,test}}.tsv splits) or run --datasets synthetic", file=sys.stderr)
        return 2
    from opennmt_peer import ensure_venv

    try:
        peer_python = ensure_venv()
    except SystemExit as error:
        print(error, file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    if load_before > 1.0:
        print(f"speed: warning: load average {load_before:.1f}; other work shares the cores, figures will "
              "be low and noisy", flush=True)
    stats = prepare_data(args)
    # The same generation limit for both toolkits: keras-seq2seq's own rule from the training data.
    args.max_length = {name: int(math.ceil(s["max_target_tokens"] * 1.5)) + 2 for name, s in stats.items()}
    peaks = [matmul_peak()]
    combos = [(c, d) for d in args.datasets for c in args.configs]
    runs = {f"{c}/{d}": {t: [] for t in TOOLKITS} for c, d in combos}
    for repeat in range(args.repeats):
        for index, (config, dataset) in enumerate(combos):
            order = TOOLKITS if (repeat + index) % 2 == 0 else TOOLKITS[::-1]
            for toolkit in order:
                label = f"{NAMES[toolkit]} {config}/{dataset} run {repeat + 1}/{args.repeats}"
                print(f"speed: {label} ...", flush=True)
                figures = run_worker(worker_command(args, toolkit, config, dataset, peer_python), label)
                if figures is not None:
                    runs[f"{config}/{dataset}"][toolkit].append(figures)
                    print(f"speed:   {figures['train_tokens_per_second']:,.0f} tok/s, greedy "
                          f"{figures['greedy_sentences_per_second']:,.0f} sent/s, beam5 "
                          f"{figures['beam5_sentences_per_second']:,.0f} sent/s, "
                          f"{figures['wall_seconds']:.0f} s", flush=True)
    peaks.append(matmul_peak())
    peak = max(peaks, key=lambda p: p["gflops"])
    summary = summarise(runs, stats, args, peak["gflops"])
    print_table(summary, peak)
    load_after = os.getloadavg()[0]
    print(f"\nload average {load_before:.1f} before, {load_after:.1f} after; {args.repeats} repeat(s), "
          f"{args.steps} training steps per run")
    line = headline(summary)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "data": stats, "matmul_peaks": peaks, "runs": runs, "medians": summary,
            "load_average": [load_before, load_after], "line": line,
        }, indent=1) + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
