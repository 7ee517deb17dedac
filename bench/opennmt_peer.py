"""OpenNMT-py 3.5.1 baseline on a Tatoeba pair, to compare with bench/quality.py.

Why: a number from our toolkit means little alone; this trains an OpenNMT-py recipe for the same
wall-clock budget on the same splits and scores it the same way (sacrebleu defaults: 13a, cased,
raw references). Two recipes (`--recipe`):

- rnn (default): the classic OpenNMT-py RNN recipe: 2-layer brnn encoder, 256 LSTM units,
  "general" global attention, input feed, dropout 0.3, adam 0.001, 2048-token batches, Moses
  words seen at least twice (Chinese: characters).
- transformer: OpenNMT-py's Transformer recipe (pre-norm blocks, sinusoidal positions, Adam
  with beta2 0.998, "noam" warm-up and inverse-square-root decay, Glorot initialisation, label
  smoothing 0.1, token batches, one joint SentencePiece vocabulary shared by both embeddings and
  the output layer) at the sizes given on the command line; bench/quality.py passes those of
  the keras-seq2seq preset it compares, so both train the same network. The noam rate is set so
  that its peak equals `--peak-lr` at `--warmup-steps`. The SentencePiece model (unigram,
  `--vocab-size` pieces, learnt on both sides of the training split) comes from pyonmttok.

    python bench/opennmt_peer.py --data-dir ../shared/data --pair spa-eng --minutes 30 \
        --work bench/peers/runs/spa-eng [--json peer.json] [--train-limit 5000]
    python bench/opennmt_peer.py --pair spa-eng --minutes 30 --recipe transformer --units 256 \
        --layers 3 --heads 4 --ffn-dim 1024 --warmup-steps 1000 --peak-lr 1e-3

How: it makes (once; a stamp file skips it next time) a venv at bench/peers/opennmt-venv with
pinned packages, then runs itself again inside it. There it Moses-tokenises the TSV splits
(column 1 = source, column 0 = English target; Chinese source split into characters), runs
onmt_build_vocab and onmt_train (no time limit exists, so it saves a checkpoint every
--save-steps steps and is killed when the budget ends; the newest whole checkpoint is used),
translates the test source with beam 5 and greedy search, detokenises and scores. Decoding speed
is onmt_translate's own "Total translation time" (process start and model load excluded).
The dev split is not used: OpenNMT-py validates only every 10,000 steps by default anyway.
The last line printed is machine-readable ("peer: name=opennmt-py pair=... bleu=...").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / "peers" / "opennmt-venv"
STAMP = VENV / ".opennmt-peer-installed"
# Installed in this order. OpenNMT-py's own requirements (torch<2.3, ctranslate2, tensorboard,
# flask, waitress) are not needed for build_vocab/train/translate, so it goes in with --no-deps and
# the modules it imports at start-up (onmt.transforms imports spacy, ahocorasick, rapidfuzz,
# fasttext, pyonmttok) are pinned by hand. Never an unpinned torch: it would pull a CUDA build.
INSTALL_STEPS = [
    ["torch==2.13.0"],
    ["--no-deps", "OpenNMT-py==3.5.1"],
    ["configargparse==1.9.0", "pyyaml==6.0.3", "six==1.17.0", "pyonmttok==1.38.1",
     "spacy==3.8.18", "pyahocorasick==2.3.1", "rapidfuzz==3.14.6", "fasttext-wheel==0.9.2",
     "sacremoses==0.2.0", "sacrebleu==2.6.0"],
    ["ctranslate2==4.8.5"],  # bench/speed_peer.py: the Transformer converted, the decoding anchor
]
MOSES_LANG = {"eng": "en", "spa": "es", "fra": "fr", "deu": "de"}
CHAR_LANGS = {"cmn"}
# torch >= 2.6 loads with weights_only=True; OpenNMT-py 3.5.1 checkpoints pickle their options.
ONMT_ENV = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=HERE.parent.parent / "shared" / "data",
                        help="folder of <pair>/{train,dev,test}.tsv")
    parser.add_argument("--pair", default="spa-eng", help="language pair folder, e.g. spa-eng")
    parser.add_argument("--minutes", type=float, default=30.0, help="training wall-clock budget")
    parser.add_argument("--work", type=Path, help="work folder (default bench/peers/runs/<pair>)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--train-limit", type=int, help="use only the first N training lines (smoke tests)")
    parser.add_argument("--seed", type=int, default=1,
                        help="OpenNMT-py's --seed (its default, -1, draws one: reruns would differ)")
    parser.add_argument("--save-steps", type=int, default=100,
                        help="checkpoint every N steps (work after the last one is lost at the kill)")
    parser.add_argument("--recipe", choices=("rnn", "transformer"), default="rnn", help="which model to train")
    group = parser.add_argument_group("transformer recipe (sizes as keras-seq2seq's --units etc.)")
    group.add_argument("--units", type=int, default=256, help="model size")
    group.add_argument("--layers", type=int, default=3, help="encoder layers")
    group.add_argument("--decoder-layers", type=int, default=0, help="decoder layers (0: --layers)")
    group.add_argument("--heads", type=int, default=4)
    group.add_argument("--ffn-dim", type=int, default=1024, help="feed-forward size (0: 4 x --units)")
    group.add_argument("--dropout", type=float, default=0.1)
    group.add_argument("--attention-dropout", type=float, default=0.1)
    group.add_argument("--label-smoothing", type=float, default=0.1)
    group.add_argument("--warmup-steps", type=int, default=1000)
    group.add_argument("--peak-lr", type=float, default=1e-3, help="the noam schedule's rate at --warmup-steps")
    group.add_argument("--vocab-size", type=int, default=8000, help="joint SentencePiece pieces")
    group.add_argument("--batch-tokens", type=int, default=2048, help="tokens per batch")
    return parser.parse_args(argv)


def ensure_venv() -> Path:
    """Create and fill the peer venv unless its stamp says it is done; return its python."""
    python = VENV / "bin" / "python"
    wanted = json.dumps(INSTALL_STEPS)
    if STAMP.is_file() and STAMP.read_text() == wanted and python.exists():
        return python
    commands = [["python3", "-m", "venv", str(VENV)]] if not python.exists() else []
    commands += [[str(python), "-m", "pip", "install", *step] for step in INSTALL_STEPS]
    for command in commands:
        print("opennmt-peer: $", " ".join(command), flush=True)
        if subprocess.run(command).returncode != 0:
            raise SystemExit(f"opennmt-peer: installing into {VENV} failed (offline?). Command was:\n"
                             f"  {' '.join(command)}\nFix it and run again; nothing was stamped.")
    STAMP.write_text(wanted)
    return python


def read_pairs(path: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """(source, English) from a TSV: column 1 and column 0; extra columns are ignored."""
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2:
                pairs.append((cols[1].strip(), cols[0].strip()))
            if limit and len(pairs) >= limit:
                break
    return pairs


def tokenizer(lang: str):
    """A function from text to a space-joined token string for a Tatoeba language code."""
    if lang in CHAR_LANGS:
        return lambda text: " ".join(ch for ch in text if not ch.isspace())
    from sacremoses import MosesTokenizer
    moses = MosesTokenizer(lang=MOSES_LANG.get(lang, "en"))
    return lambda text: moses.tokenize(text, escape=False, return_str=True)


def write_tokenised(pairs, src_tok, tgt_tok, stem: Path) -> tuple[Path, Path]:
    """Write <stem>.src and <stem>.tgt, one tokenised sentence a line."""
    src_path, tgt_path = stem.with_suffix(".src"), stem.with_suffix(".tgt")
    src_path.write_text("".join(src_tok(s) + "\n" for s, _ in pairs), encoding="utf-8")
    tgt_path.write_text("".join(tgt_tok(t) + "\n" for _, t in pairs), encoding="utf-8")
    return src_path, tgt_path


def rnn_recipe() -> dict:
    """The classic OpenNMT-py RNN recipe (the model and optimizer part of the config)."""
    return {
        "src_words_min_frequency": 2, "tgt_words_min_frequency": 2,
        "encoder_type": "brnn", "decoder_type": "rnn", "rnn_type": "LSTM", "layers": 2,
        "hidden_size": 256, "word_vec_size": 256, "global_attention": "general", "input_feed": 1,
        "dropout": [0.3], "optim": "adam", "learning_rate": 0.001, "batch_type": "tokens", "batch_size": 2048,
    }


def transformer_recipe(args: argparse.Namespace) -> dict:
    """OpenNMT-py's Transformer recipe at the sizes in `args` (see the module docstring)."""
    # noam: rate = learning_rate * units^-0.5 * min(step^-0.5, step * warmup^-1.5), whose peak,
    # at step = warmup, is learning_rate * units^-0.5 * warmup^-0.5.
    learning_rate = args.peak_lr * (args.units * args.warmup_steps) ** 0.5
    return {
        "share_vocab": True, "src_vocab_size": args.vocab_size, "tgt_vocab_size": args.vocab_size,
        "encoder_type": "transformer", "decoder_type": "transformer", "position_encoding": True,
        "enc_layers": args.layers, "dec_layers": args.decoder_layers or args.layers, "heads": args.heads,
        "hidden_size": args.units, "word_vec_size": args.units, "transformer_ff": args.ffn_dim or 4 * args.units,
        "dropout": [args.dropout], "attention_dropout": [args.attention_dropout],
        "share_embeddings": True, "share_decoder_embeddings": True,
        "optim": "adam", "adam_beta2": 0.998, "decay_method": "noam", "warmup_steps": args.warmup_steps,
        "learning_rate": round(learning_rate, 6), "max_grad_norm": 0.0, "param_init": 0.0,
        "param_init_glorot": True, "label_smoothing": args.label_smoothing, "normalization": "tokens",
        "batch_type": "tokens", "batch_size": args.batch_tokens,
    }


def write_config(work: Path, train: tuple[Path, Path], save_steps: int, limit: int | None,
                 seed: int = 1, recipe: dict | None = None) -> Path:
    """The OpenNMT-py YAML config shared by onmt_build_vocab and onmt_train (the recipe)."""
    config = {
        "save_data": str(work / "onmt"), "overwrite": True,
        "src_vocab": str(work / "vocab.src"), "tgt_vocab": str(work / "vocab.tgt"),
        "data": {"corpus_1": {"path_src": str(train[0]), "path_tgt": str(train[1])}},
        **(recipe or rnn_recipe()),
        "train_steps": 1_000_000,
        "save_model": str(work / "model"), "save_checkpoint_steps": save_steps,
        "keep_checkpoint": 3, "world_size": 1, "report_every": 50, "seed": seed,
    }
    if limit:  # the default bucket (262,144 examples a worker) cycles a small corpus for minutes
        config["bucket_size"] = limit
    path = work / "onmt.yaml"
    path.write_text(json.dumps(config, indent=1))  # JSON is valid YAML
    return path


def onmt(tool: str, *args: str, log: Path | None = None) -> subprocess.Popen:
    """Start an OpenNMT-py command from the venv, output to `log`, in its own process group."""
    with open(log or os.devnull, "w") as out:
        return subprocess.Popen([str(Path(sys.prefix) / "bin" / tool), *args], env=ONMT_ENV,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def run_onmt(tool: str, *args: str, log: Path) -> None:
    """Run an OpenNMT-py command to its end; fail with the log's tail if it fails."""
    if onmt(tool, *args, log=log).wait() != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-15:])
        raise SystemExit(f"opennmt-peer: {tool} failed, see {log}:\n{tail}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL it if still there after 10 s."""
    for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def train_for(config: Path, minutes: float, log: Path) -> float:
    """Run onmt_train until the budget ends (or it stops); return the minutes it ran."""
    started = time.monotonic()
    proc = onmt("onmt_train", "-config", str(config), log=log)
    deadline = started + minutes * 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(1)
    if proc.poll() is not None and proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-15:])
        raise SystemExit(f"opennmt-peer: onmt_train failed, see {log}:\n{tail}")
    stop(proc)
    return (time.monotonic() - started) / 60


def latest_checkpoint(work: Path) -> tuple[Path, int]:
    """Newest complete model_step_N.pt (a save cut by the kill is not a valid zip)."""
    found = sorted(((int(m.group(1)), p) for p in work.glob("model_step_*.pt")
                    if (m := re.fullmatch(r"model_step_(\d+)\.pt", p.name))), reverse=True)
    for step, path in found:
        if zipfile.is_zipfile(path):
            return path, step
    raise SystemExit(f"opennmt-peer: no complete checkpoint in {work} (see train.log there); "
                     "raise --minutes or lower --save-steps")


def train_log(log: Path) -> tuple[list[float], int]:
    """Target tokens/s of each 'Step N/...; src/tgt tok/s' line of the onmt_train log; last N."""
    found = re.findall(r"Step (\d+)/.*?\d+/\s*(\d+) tok/s", log.read_text(errors="replace"))
    return [float(rate) for _, rate in found], int(found[-1][0]) if found else 0


def translate(model: Path, src: Path, out: Path, beam: int) -> float:
    """Translate `src` into `out`; return onmt_translate's own translation seconds."""
    log = out.with_suffix(".log")
    started = time.monotonic()
    run_onmt("onmt_translate", "-model", str(model), "-src", str(src), "-output", str(out),
             "-beam_size", str(beam), "-batch_size", "64", "-batch_type", "sents",
             "-report_time", log=log)
    wall = time.monotonic() - started
    found = re.search(r"Total translation time \(s\): ([\d.]+)", log.read_text(errors="replace"))
    return float(found.group(1)) if found and float(found.group(1)) > 0 else wall


def detokenise(path: Path, subwords: Path | None = None) -> list[str]:
    """Detokenised lines of a tokenised output file: SentencePiece pieces joined back with the
    `subwords` model, or else English Moses detokenisation."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if subwords is not None:
        pieces = subword_tokenizer(subwords)
        return [pieces.detokenize(line.split()) for line in lines]
    from sacremoses import MosesDetokenizer
    moses = MosesDetokenizer(lang="en")
    return [moses.detokenize(line.split()) for line in lines]


def subword_tokenizer(model: Path):
    import pyonmttok
    return pyonmttok.Tokenizer("none", sp_model_path=str(model))


def learn_subwords(pairs, work: Path, vocab_size: int) -> Path:
    """A joint unigram SentencePiece model learnt from both sides of `pairs` (pyonmttok)."""
    import pyonmttok
    text = work / "subword-training.txt"
    text.write_text("".join(f"{s}\n{t}\n" for s, t in pairs), encoding="utf-8")
    learner = pyonmttok.SentencePieceLearner(vocab_size=vocab_size, character_coverage=0.9999)
    learner.ingest_file(str(text))
    model = work / "sentencepiece.model"
    learner.learn(str(model))  # the file is written under exactly this name
    return model


def score(hypotheses: list[str], references: list[str]) -> tuple[float, float]:
    """Corpus BLEU and chrF with sacrebleu defaults (13a, cased)."""
    import sacrebleu
    return (sacrebleu.corpus_bleu(hypotheses, [references]).score,
            sacrebleu.corpus_chrf(hypotheses, [references]).score)


def prepare(args: argparse.Namespace, pair_dir: Path, work: Path):
    """Tokenised train/test files and a fresh config in `work`; return (config, test source, test pairs)."""
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("model_step_*.pt"):
        old.unlink()
    train_pairs = read_pairs(pair_dir / "train.tsv", args.train_limit)
    test_pairs = read_pairs(pair_dir / "test.tsv")
    if args.recipe == "transformer":
        pieces = subword_tokenizer(learn_subwords(train_pairs, work, args.vocab_size))
        src_tok = tgt_tok = lambda text: " ".join(pieces.tokenize(text)[0])  # noqa: E731
        recipe = transformer_recipe(args)
    else:
        src_tok, tgt_tok = tokenizer(args.pair.split("-")[0]), tokenizer("eng")
        recipe = rnn_recipe()
    train = write_tokenised(train_pairs, src_tok, tgt_tok, work / "train")
    test_src, _ = write_tokenised(test_pairs, src_tok, tgt_tok, work / "test")
    print(f"opennmt-peer: {len(train_pairs):,} training pairs, {len(test_pairs):,} test pairs in {work}",
          flush=True)
    config = write_config(work, train, args.save_steps, args.train_limit, args.seed, recipe)
    return config, test_src, test_pairs


def load_average() -> float:
    """The 1-minute load average, with a warning when other work shares the cores."""
    load = os.getloadavg()[0]
    if load > 1.0:
        print(f"opennmt-peer: warning: load average {load:.1f} before training; torch's threads "
              "slow down many times over when the cores are shared, so figures will be low", flush=True)
    return load


def benchmark(args: argparse.Namespace, pair_dir: Path, work: Path) -> dict:
    """The whole run inside the venv: data, vocab, training, decoding, scores."""
    config, test_src, test_pairs = prepare(args, pair_dir, work)
    run_onmt("onmt_build_vocab", "-config", str(config), "-n_sample", "-1", log=work / "build_vocab.log")
    load = load_average()
    print(f"opennmt-peer: training for {args.minutes:g} minutes (log {work / 'train.log'})", flush=True)
    minutes = train_for(config, args.minutes, work / "train.log")
    model, step = latest_checkpoint(work)
    rates, last_logged_step = train_log(work / "train.log")
    beam_s = translate(model, test_src, work / "test.beam5.txt", beam=5)
    greedy_s = translate(model, test_src, work / "test.greedy.txt", beam=1)
    refs = [t for _, t in test_pairs]
    subwords = work / "sentencepiece.model" if args.recipe == "transformer" else None
    bleu, chrf = score(detokenise(work / "test.beam5.txt", subwords), refs)
    greedy_bleu, _ = score(detokenise(work / "test.greedy.txt", subwords), refs)
    return {
        "name": "opennmt-py", "recipe": args.recipe, "pair": args.pair, "bleu": round(bleu, 1),
        "chrf": round(chrf, 1),
        "greedy_bleu": round(greedy_bleu, 1),
        "train_tokens_per_second": round(statistics.median(rates)) if rates else 0,
        "beam_sentences_per_second": round(len(test_pairs) / beam_s),
        "greedy_sentences_per_second": round(len(test_pairs) / greedy_s),
        "steps": step, "minutes": round(minutes, 1),
        "unk": (work / "test.beam5.txt").read_text(encoding="utf-8").split().count("<unk>"),
        "last_logged_step": last_logged_step, "load_average_at_start": round(load, 2),
        "checkpoint": str(model), "train_limit": args.train_limit,
        "test_pairs": len(test_pairs),
    }


def report(figures: dict, json_path: Path | None) -> None:
    """Print the table and the machine-readable last line; write JSON if asked."""
    print("\n| opennmt-py 3.5.1 | value |\n|---|---|")
    for key, value in figures.items():
        print(f"| {key.replace('_', ' ')} | {value} |")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
    keys = ("name", "recipe", "pair", "bleu", "chrf", "greedy_bleu", "train_tokens_per_second",
            "beam_sentences_per_second", "greedy_sentences_per_second", "steps", "minutes", "unk")
    print("peer: " + " ".join(f"{k}={figures[k]}" for k in keys), flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    pair_dir = args.data_dir / args.pair
    missing = [n for n in ("train.tsv", "test.tsv") if not (pair_dir / n).is_file()]
    if missing:
        print(f"opennmt-peer: {pair_dir} has no {', '.join(missing)}; give --data-dir "
              "(a folder of <pair>/ splits) and --pair", file=sys.stderr)
        return 2
    if Path(sys.prefix).resolve() != VENV.resolve():
        try:
            python = ensure_venv()
        except SystemExit as error:
            print(error, file=sys.stderr)
            return 2
        return subprocess.run([str(python), str(Path(__file__).resolve()), *argv]).returncode
    work = args.work or HERE / "peers" / "runs" / (args.pair if args.recipe == "rnn" else f"{args.pair}-{args.recipe}")
    report(benchmark(args, pair_dir, work.resolve()), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
