"""OpenNMT-py 3.5.1 baseline on a Tatoeba pair, to compare with bench/quality.py.

    python bench/opennmt_peer.py --data-dir ../shared/data --pair spa-eng --minutes 30 \\
        --work bench/peers/runs/spa-eng [--json peer.json] [--train-limit 5000]
    python bench/opennmt_peer.py --pair spa-eng --minutes 30 --recipe transformer --units 256 \\
        --layers 2 --heads 4 --ffn-dim 1024 --warmup-steps 400 --peak-lr 1e-3

Trains an OpenNMT-py recipe for the same wall-clock budget on the same splits and scores it the
same way (sacrebleu defaults: 13a, cased, raw references; Chinese output with tokenize="zh").
`--recipe rnn` (the default) is its classic RNN recipe (RECIPE); `--recipe transformer` its
Transformer recipe (`transformer_recipe`) at the sizes given here, which bench/quality.py takes from
the keras-seq2seq preset it compares, so both train the same network; its text is one joint
SentencePiece model learnt by pyonmttok on both sides of the training split. `--source-lang eng`
turns the direction: English source, the pair's other language the target (e.g. English → Chinese
on cmn-eng). It makes (once; a stamp file skips it next time) a venv at bench/peers/opennmt-venv
with pinned packages, then runs itself again inside it: Moses-tokenises the splits (Chinese, on
either side, into characters: the usual recipe for a corpus this small, and no segmenter to
install), builds the
vocabularies, trains until the budget ends (OpenNMT-py has no time limit: it is killed, and the
newest whole checkpoint is used), decodes the test source with beam 5 and greedy, detokenises
and scores. bench/README.md says what each figure counts. Last line:

    peer: name=opennmt-py pair=… bleu=… chrf=… greedy_bleu=… train_tokens_per_second=… …
"""

from __future__ import annotations

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

from common import (add_pair_arguments, argument_parser, busy_warning, last_line, pair_dir, print_table, tatoeba_pairs,
                    write_json)

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
# The recipe: 2-layer brnn encoder, 256 LSTM units, "general" global attention, input feed,
# dropout 0.3, Adam 0.001, 2,048-token batches, words seen at least twice.
RECIPE = {"src_words_min_frequency": 2, "tgt_words_min_frequency": 2, "encoder_type": "brnn", "layers": 2,
          "hidden_size": 256, "word_vec_size": 256, "global_attention": "general", "input_feed": 1,
          "dropout": [0.3], "optim": "adam", "learning_rate": 0.001, "batch_type": "tokens",
          "batch_size": 2048, "train_steps": 1_000_000, "keep_checkpoint": 3, "report_every": 50}
MOSES_LANG = {"eng": "en", "spa": "es", "fra": "fr", "deu": "de"}
CHAR_LANGS = {"cmn"}
# torch >= 2.6 loads with weights_only=True; OpenNMT-py 3.5.1 checkpoints pickle their options.
ONMT_ENV = {**os.environ, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}


def parse_args(argv: list[str]):
    parser = argument_parser(__doc__)
    add_pair_arguments(parser)
    parser.add_argument("--minutes", type=float, default=30.0, help="training wall-clock budget")
    parser.add_argument("--source-lang", help="source language (default: the pair's first; eng: English → "
                                              "the other language)")
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
    group.add_argument("--layers", type=int, default=2, help="encoder layers")
    group.add_argument("--decoder-layers", type=int, default=0, help="decoder layers (0: --layers)")
    group.add_argument("--heads", type=int, default=4, help="attention heads")
    group.add_argument("--ffn-dim", type=int, default=1024, help="feed-forward size (0: 4 x --units)")
    group.add_argument("--dropout", type=float, default=0.1, help="dropout")
    group.add_argument("--attention-dropout", type=float, default=0.1, help="dropout on attention weights")
    group.add_argument("--label-smoothing", type=float, default=0.1, help="label smoothing")
    group.add_argument("--warmup-steps", type=int, default=1000, help="noam warm-up steps")
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


def transformer_recipe(args) -> dict:
    """OpenNMT-py's Transformer recipe at the sizes in `args`: pre-norm blocks, sinusoidal
    positions, Adam with beta2 0.998, "noam" warm-up and inverse-square-root decay, Glorot
    initialisation, label smoothing, token batches, one vocabulary shared by both embeddings and
    the output layer."""
    # noam: rate = learning_rate * units^-0.5 * min(step^-0.5, step * warmup^-1.5), whose peak,
    # at step = warmup, is learning_rate * units^-0.5 * warmup^-0.5: set it to --peak-lr.
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
        "batch_type": "tokens", "batch_size": args.batch_tokens, "train_steps": 1_000_000,
        "keep_checkpoint": 3, "report_every": 50,
    }


def write_config(work: Path, train: tuple[Path, Path], **options) -> Path:
    """The YAML config onmt_build_vocab and onmt_train share: an LSTM decoder unless `options`,
    laid on top, say otherwise."""
    config = {
        "save_data": str(work / "onmt"), "overwrite": True, "src_vocab": str(work / "vocab.src"),
        "tgt_vocab": str(work / "vocab.tgt"), "data": {"corpus_1": {"path_src": str(train[0]), "path_tgt": str(train[1])}},
        "decoder_type": "rnn", "rnn_type": "LSTM", "save_model": str(work / "model"), "world_size": 1, **options,
    }
    path = work / "onmt.yaml"
    path.write_text(json.dumps(config, indent=1))  # JSON is valid YAML
    return path


def onmt(tool: str, *args: str, log: Path | None = None) -> subprocess.Popen:
    """Start an OpenNMT-py command from the venv, output to `log`, in its own process group."""
    with open(log or os.devnull, "w") as out:
        return subprocess.Popen([str(Path(sys.prefix) / "bin" / tool), *args], env=ONMT_ENV,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def run_onmt(tool: str, *args: str, log: Path) -> float:
    """Run an OpenNMT-py command to its end; its peak RSS in MB (fail with the log's tail)."""
    _, status, usage = os.wait4(onmt(tool, *args, log=log).pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-15:])
        raise SystemExit(f"opennmt-peer: {tool} failed, see {log}:\n{tail}")
    return usage.ru_maxrss / 1024


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL it if still there after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(10)
            return
        except ProcessLookupError:
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


def translate(model: Path, src: Path, out: Path, beam: int, *options: str) -> tuple[float, float]:
    """Translate `src` into `out` in batches of 64 sentences: (onmt_translate's own translation
    seconds, model load excluded; its peak RSS in MB)."""
    log = out.with_suffix(".log")
    rss = run_onmt("onmt_translate", "-model", str(model), "-src", str(src), "-output", str(out), "-beam_size",
                   str(beam), "-batch_size", "64", "-batch_type", "sents", "-report_time", *options, log=log)
    found = re.search(r"Total translation time \(s\): ([\d.]+)", log.read_text(errors="replace"))
    if not found or float(found.group(1)) <= 0:
        raise SystemExit(f"opennmt-peer: no 'Total translation time' in {log}")
    return float(found.group(1)), rss


def detokenise(path: Path, lang: str = "eng", subwords: Path | None = None) -> list[str]:
    """Detokenised lines of a tokenised output file: SentencePiece pieces joined back with the
    `subwords` model, a language split into characters joined without spaces, or else Moses
    detokenisation."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if subwords is not None:
        pieces = subword_tokenizer(subwords)
        return [pieces.detokenize(line.split()) for line in lines]
    if lang in CHAR_LANGS:
        return ["".join(line.split()) for line in lines]
    from sacremoses import MosesDetokenizer
    moses = MosesDetokenizer(lang=MOSES_LANG.get(lang, "en"))
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


def score(hypotheses: list[str], references: list[str], lang: str = "eng") -> tuple[float, float]:
    """Corpus BLEU and chrF with sacrebleu defaults (13a, cased; tokenize="zh" for Chinese)."""
    import sacrebleu
    tokenize = "zh" if lang in CHAR_LANGS else "13a"
    return (sacrebleu.corpus_bleu(hypotheses, [references], tokenize=tokenize).score,
            sacrebleu.corpus_chrf(hypotheses, [references]).score)


def languages(args) -> tuple[str, str]:
    """(source, target) Tatoeba codes: the pair's other language and English, or the reverse."""
    other = args.pair.split("-")[0]
    source = args.source_lang or other
    return source, (other if source == "eng" else "eng")


def prepare(args, pair_dir: Path, work: Path):
    """Tokenised train/test files and a fresh config in `work`; return (config, test source, test pairs)."""
    source_lang, target_lang = languages(args)
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("model_step_*.pt"):
        old.unlink()
    turn = (lambda pairs: [(english, other) for other, english in pairs]) if source_lang == "eng" else list
    train_pairs = turn(tatoeba_pairs(pair_dir / "train.tsv", args.train_limit))
    test_pairs = turn(tatoeba_pairs(pair_dir / "test.tsv"))
    if args.recipe == "transformer":
        pieces = subword_tokenizer(learn_subwords(train_pairs, work, args.vocab_size))
        src_tok = tgt_tok = lambda text: " ".join(pieces.tokenize(text)[0])  # noqa: E731
        recipe = transformer_recipe(args)
    else:
        src_tok, tgt_tok = tokenizer(source_lang), tokenizer(target_lang)
        recipe = RECIPE
    train = write_tokenised(train_pairs, src_tok, tgt_tok, work / "train")
    test_src, _ = write_tokenised(test_pairs, src_tok, tgt_tok, work / "test")
    print(f"opennmt-peer: {len(train_pairs):,} training pairs, {len(test_pairs):,} test pairs in {work}",
          flush=True)
    # The default bucket (262,144 examples a worker) would cycle a small corpus for minutes.
    bucket = {"bucket_size": args.train_limit} if args.train_limit else {}
    config = write_config(work, train, **recipe, save_checkpoint_steps=args.save_steps, seed=args.seed, **bucket)
    return config, test_src, test_pairs


def benchmark(args, pair_dir: Path, work: Path) -> dict:
    """The whole run inside the venv: data, vocab, training, decoding, scores."""
    config, test_src, test_pairs = prepare(args, pair_dir, work)
    run_onmt("onmt_build_vocab", "-config", str(config), "-n_sample", "-1", log=work / "build_vocab.log")
    load = busy_warning("opennmt-peer")
    print(f"opennmt-peer: training for {args.minutes:g} minutes (log {work / 'train.log'})", flush=True)
    minutes = train_for(config, args.minutes, work / "train.log")
    model, step = latest_checkpoint(work)
    rates, last_logged_step = train_log(work / "train.log")
    beam_s, _ = translate(model, test_src, work / "test.beam5.txt", beam=5)
    greedy_s, _ = translate(model, test_src, work / "test.greedy.txt", beam=1)
    refs = [t for _, t in test_pairs]
    source_lang, target_lang = languages(args)
    subwords = work / "sentencepiece.model" if args.recipe == "transformer" else None
    bleu, chrf = score(detokenise(work / "test.beam5.txt", target_lang, subwords), refs, target_lang)
    greedy_bleu, _ = score(detokenise(work / "test.greedy.txt", target_lang, subwords), refs, target_lang)
    return {
        "name": "opennmt-py", "recipe": args.recipe, "pair": args.pair, "direction": f"{source_lang}-{target_lang}",
        "bleu": round(bleu, 1), "chrf": round(chrf, 1),
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
    print_table(["opennmt-py 3.5.1", "value"], [[key.replace("_", " "), value] for key, value in figures.items()])
    if json_path:
        write_json(json_path, figures)
    keys = ("name", "recipe", "pair", "bleu", "chrf", "greedy_bleu", "train_tokens_per_second",
            "beam_sentences_per_second", "greedy_sentences_per_second", "steps", "minutes", "unk")
    last_line("peer", {key: figures[key] for key in keys})


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    folder = pair_dir("opennmt-peer", args.data_dir, args.pair)
    if Path(sys.prefix).resolve() != VENV.resolve():
        try:
            python = ensure_venv()
        except SystemExit as error:
            print(error, file=sys.stderr)
            return 2
        return subprocess.run([str(python), str(Path(__file__).resolve()), *argv]).returncode
    name = f"{args.pair}-from-{args.source_lang}" if args.source_lang else args.pair
    work = args.work or HERE / "peers" / "runs" / (name if args.recipe == "rnn" else f"{name}-{args.recipe}")
    report(benchmark(args, folder, work.resolve()), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
