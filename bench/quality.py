"""Translation quality on real data: train for a fixed time budget, score on the test split.

    python bench/quality.py                       # spa→eng, 20 minutes, preset tatoeba-word
    python bench/quality.py --pair cmn-eng --minutes 10 --source-tokenizer char
    python bench/quality.py --model runs/spa-eng --data ../shared/data/spa-eng/test.tsv
    python bench/quality.py --pair cmn-eng --minutes 30 --peer                    # Chinese → English
    python bench/quality.py --pair cmn-eng --source-lang eng --minutes 30 --peer  # English → Chinese
    python bench/quality.py --preset tatoeba-transformer --minutes 30 --peer   # both Transformers

Reads `../shared/data/<pair>/{train,dev,test}.tsv` (Tatoeba, English first; the other language is
the source, or the target with `--source-lang eng`). Prints BLEU and chrF (sacrebleu defaults: 13a,
cased, raw references; Chinese output with tokenize="zh", the signatures printed), training target
tokens/s and decoding sentences/s. Chinese directions default to their presets (tatoeba-zh-en,
tatoeba-en-zh). The last line is machine-readable (`peer_*` with `--peer`, `shortlist*` with
`--shortlist`; minutes is the budget, the table has the time taken):

    quality: pair=… direction=… bleu=… chrf=… greedy_bleu=… [peer_bleu=… peer_chrf=…]
             [shortlist=… shortlist_bleu=… shortlist_greedy_bleu=…] minutes=…   (one line)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import (HERE, add_pair_arguments, argument_parser, as_the_command_does, last_line, pair_dir, print_table,
                    ratio, run_side)

from keras_seq2seq.config import TOKENIZER_KINDS  # light: no Keras
from keras_seq2seq.text.scripts import CONVERSIONS

# Tatoeba's language codes as the two-letter codes a direction is named with (zh-en, en-zh).
SHORT_CODES = {"cmn": "zh", "eng": "en", "spa": "es", "fra": "fr", "deu": "de", "ita": "it", "jpn": "ja"}
CHINESE_PRESETS = {("cmn", "eng"): "tatoeba-zh-en", ("eng", "cmn"): "tatoeba-en-zh"}


def main() -> int:
    parser = argument_parser(__doc__)
    add_pair_arguments(parser)
    parser.add_argument("--minutes", type=float, default=20.0, help="training time budget")
    parser.add_argument("--preset", help="keras-seq2seq preset (default: tatoeba-zh-en or tatoeba-en-zh "
                                         "for Chinese directions, else tatoeba-word)")
    parser.add_argument("--source-tokenizer", choices=TOKENIZER_KINDS, help="override the source tokeniser")
    parser.add_argument("--target-tokenizer", choices=TOKENIZER_KINDS, help="override the target tokeniser")
    parser.add_argument("--convert", choices=(*CONVERSIONS, "none"),
                        help="override the Chinese side's script conversion (OpenCC), e.g. t2s; none: off")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override any other setting, e.g. --set units=384 (JSON values)")
    parser.add_argument("--epochs", type=int, default=100, help="most epochs (the time budget usually ends first)")
    parser.add_argument("--out", type=Path, help="model directory (default runs/quality-<pair>, "
                                                              "runs/quality-<pair>-<direction> with --source-lang eng)")
    parser.add_argument("--model", type=Path, help="score this trained model instead of training")
    parser.add_argument("--data", type=Path, help="with --model: the TSV to score (default: the pair's test.tsv)")
    parser.add_argument("--source-lang", help="source language of the TSVs (default: the pair's first; eng: "
                                              "English → the other language)")
    parser.add_argument("--beam-size", type=int, default=5, help="beam of the headline scores (greedy too)")
    parser.add_argument("--length-penalty", type=float, default=0.0, help="GNMT length penalty alpha")
    parser.add_argument("--shortlist", type=int, default=0, metavar="SIZE",
                        help="also score with the model's vocabulary shortlist of SIZE words per batch")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=False,
                        help="also train and score OpenNMT-py 3.5.1 for the same minutes (bench/opennmt_peer.py)")
    args = parser.parse_args()
    as_the_command_does()

    from keras_seq2seq import Translator, read_corpus
    from keras_seq2seq.config import resolve

    other = args.pair.split("-")[0]
    source_lang = args.source_lang or other
    target_lang = other if source_lang == "eng" else "eng"
    direction = f"{SHORT_CODES.get(source_lang, source_lang)}-{SHORT_CODES.get(target_lang, target_lang)}"
    preset = args.preset or CHINESE_PRESETS.get((source_lang, target_lang), "tatoeba-word")
    if args.model:
        translator = Translator.load(args.model)
        test_file = args.data or args.data_dir / args.pair / "test.tsv"
        minutes = 0.0
    else:
        folder = pair_dir("quality", args.data_dir, args.pair, ("train", "dev", "test"))
        train = list(read_corpus(folder / "train.tsv", source_lang=source_lang))
        dev = list(read_corpus(folder / "dev.tsv", source_lang=source_lang))
        out = args.out or Path("runs") / (f"quality-{args.pair}" if source_lang == other else
                                          f"quality-{args.pair}-{direction}")
        overrides = {"max_minutes": args.minutes, "epochs": args.epochs, **setting_overrides(args, source_lang)}
        print(f"quality: {direction} on {folder}, preset {preset}, overrides {overrides}", flush=True)
        started = time.perf_counter()
        translator = Translator.train(train, dev=dev, settings=resolve(preset, **overrides), out_dir=out,
                                      info={"data": {"pair": args.pair, "source_lang": source_lang}})
        minutes = (time.perf_counter() - started) / 60
        test_file = folder / "test.tsv"
        print(f"model saved in {out}")

    test = list(read_corpus(test_file, source_lang=source_lang))
    ours = score(translator, test, args.beam_size, args.length_penalty, target_lang)
    ours["train_tokens_per_second"] = translator.info.get("training", {}).get("target_tokens_per_second", 0)
    ours["minutes"] = minutes
    peer = None
    if args.peer and not args.model:  # the peer's own process, in its own venv (bench/opennmt_peer.py)
        command = [sys.executable, str(HERE / "opennmt_peer.py"), "--data-dir", str(args.data_dir),
                   "--pair", args.pair, "--minutes", str(args.minutes), *peer_recipe(translator, train)]
        if args.source_lang:
            command += ["--source-lang", args.source_lang]
        print("peer:", " ".join(command), flush=True)
        peer = run_side(command, "quality: the OpenNMT-py peer", quiet=False)
    print_scores(ours, peer, args.beam_size, str(test_file))
    print(f"BLEU signature: {ours['signatures']['bleu']}\nchrF signature: {ours['signatures']['chrf']}")
    if ours.get("simplified_bleu") is not None:
        print(f"output and references both converted to Simplified (OpenCC t2s; the script not counted): "
              f"BLEU {ours['simplified_bleu']:.1f}, chrF {ours['simplified_chrf']:.1f}")
    if translator.model.decoder.has_attention:
        print(attention_summary(translator, [p.source for p in test[:500]]))
    for pair, hypothesis in list(zip(test, ours["hypotheses"]))[:5]:
        print(f"  {pair.source}\n    → {hypothesis}\n    = {pair.target}")
    line = {"pair": args.pair, "direction": direction, "bleu": f"{ours['bleu']:.1f}", "chrf": f"{ours['chrf']:.1f}",
            "greedy_bleu": f"{ours['greedy_bleu']:.1f}"}
    if peer:
        line.update(peer_bleu=f"{peer['bleu']:.1f}", peer_chrf=f"{peer['chrf']:.1f}")
    if args.shortlist:
        translator.use_shortlist(args.shortlist)  # a clear error if the model has none
        listed = score(translator, test, args.beam_size, args.length_penalty, target_lang)
        print_shortlist_table(ours, listed, args.shortlist)
        line.update(shortlist=args.shortlist, shortlist_bleu=f"{listed['bleu']:.2f}",
                    shortlist_greedy_bleu=f"{listed['greedy_bleu']:.2f}")
    last_line("quality", {**line, "minutes": f"{0 if args.model else args.minutes:g}"})
    return 0


def peer_recipe(translator, train) -> list[str]:
    """The peer's recipe options: its RNN recipe, or, for a Transformer, OpenNMT-py's Transformer
    recipe with our model's sizes, vocabulary size, warm-up, peak rate and batch size in tokens."""
    m, t = translator.settings.model, translator.settings.train
    if m.architecture != "transformer":
        return []
    sample = train[:: max(1, len(train) // 2000)]
    mean_target = sum(len(translator.encode_target(p.target)) for p in sample) / max(1, len(sample))
    return ["--recipe", "transformer", "--units", str(m.units), "--layers", str(m.num_layers),
            "--decoder-layers", str(m.decoder_layers), "--heads", str(m.heads), "--ffn-dim", str(m.ffn_dim),
            "--dropout", str(m.dropout), "--attention-dropout", str(m.attention_dropout),
            "--label-smoothing", str(t.label_smoothing), "--warmup-steps", str(t.warmup_steps),
            "--peak-lr", str(t.learning_rate), "--vocab-size", str(translator.settings.text.vocab_size),
            "--batch-tokens", str(t.batch_tokens or round(t.batch_size * mean_target))]


def setting_overrides(args, source_lang: str) -> dict:
    """Settings changed from the preset by --source-tokenizer, --target-tokenizer, --convert, --set."""
    overrides = {}
    for side, kind in (("source", args.source_tokenizer), ("target", args.target_tokenizer)):
        if kind:
            overrides[f"{side}_tokenizer"] = {"kind": kind}
    if args.convert:
        key = "target_tokenizer" if source_lang == "eng" else "source_tokenizer"  # the Chinese side
        overrides[key] = {**overrides.get(key, {}), "convert": None if args.convert == "none" else args.convert}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name.replace("-", "_")] = json.loads(value)
    return overrides


def score(translator, test, beam_size: int, length_penalty: float, target_lang: str) -> dict:
    """Greedy and beam scores on `test`; each search is run once untimed to compile it first.

    Chinese output is also scored with both output and references converted to Simplified
    (OpenCC t2s): Tatoeba's references mix both scripts, and this shows how much of the
    difference is the script alone (and scores a model that writes only Simplified fairly)."""
    from keras_seq2seq import metrics
    from keras_seq2seq.search.options import SearchOptions

    result = {}
    for label, beam in (("greedy", 1), ("beam", beam_size)):
        options = SearchOptions(beam_size=beam, length_penalty=length_penalty)
        translator.translate([p.source for p in test], options=options)  # compile
        result[label] = translator.evaluate(test, options=options, target_lang=target_lang)
    beam = result["beam"]
    converted = {}
    if metrics.is_chinese(target_lang):
        from keras_seq2seq.text.scripts import converter

        simplified = converter("t2s")
        hypotheses = [simplified(h) for h in beam["hypotheses"]]
        references = [simplified(p.target) for p in test]
        converted = {"simplified_bleu": metrics.bleu(hypotheses, references, target_lang),
                     "simplified_chrf": metrics.chrf(hypotheses, references)}
    return {
        **converted, "signatures": beam["signatures"],
        "bleu": beam["bleu"], "chrf": beam["chrf"], "exact_match": beam["exact_match"],
        "greedy_bleu": result["greedy"]["bleu"], "greedy_chrf": result["greedy"]["chrf"],
        "beam_sentences_per_second": beam["sentences_per_second"],
        "greedy_sentences_per_second": result["greedy"]["sentences_per_second"],
        "unk": sum(h.count("<unk>") for h in beam["hypotheses"]),
        "sentences": beam["sentences"], "hypotheses": beam["hypotheses"],
        "epochs": translator.info.get("training", {}).get("epochs", "?"),
    }


def attention_summary(translator, sources: list[str]) -> str:
    """Where greedy decoding's attention goes on `sources`: a healthy model spreads it over the
    source; a collapsed one puts all of it on one end (the first or last token) at every step."""
    import numpy as np

    peaks, first, last = [], [], []
    for alignment in translator.align(sources):
        weights = alignment.weights  # output steps x source tokens
        if weights.shape[1] < 3:
            continue  # too short to tell an end from the middle
        strongest = weights.argmax(axis=1)
        peaks.extend(weights.max(axis=1))
        first.extend(strongest == 0)
        last.extend(strongest == weights.shape[1] - 1)
    return (f"attention over {len(sources)} test sentences (greedy; sources of 3+ tokens): mean peak weight "
            f"{np.mean(peaks):.2f}; strongest on the first source token at {np.mean(first):.0%} of steps, "
            f"on the last at {np.mean(last):.0%}")


def print_shortlist_table(whole: dict, listed: dict, size: int) -> None:
    """The same model decoding with its whole vocabulary and with a shortlist of `size` words."""
    rows = []
    for name, key, fmt in (("BLEU, beam", "bleu", "{:.2f}"), ("chrF, beam", "chrf", "{:.2f}"),
                           ("BLEU, greedy", "greedy_bleu", "{:.2f}"),
                           ("greedy decode sentences/s", "greedy_sentences_per_second", "{:,.0f}"),
                           ("beam decode sentences/s", "beam_sentences_per_second", "{:,.0f}")):
        change = f"{listed[key] - whole[key]:+.2f}" if "sentences" not in key else f"{listed[key] / whole[key]:.2f}x"
        rows.append([name, fmt.format(whole[key]), fmt.format(listed[key]), change])
    print_table(["", "whole vocabulary", f"shortlist of {size:,}", "change"], rows)


def print_scores(ours: dict, peer: dict | None, beam_size: int, test_file: str) -> None:
    """Our scores and speeds, beside the peer's (and the ratio) when it ran."""
    print(f"\ntest file: {test_file} ({ours['sentences']:,} sentences); epochs trained: {ours['epochs']}")
    rows = []
    for name, key, fmt in ((f"BLEU, beam {beam_size}", "bleu", "{:.1f}"), (f"chrF, beam {beam_size}", "chrf", "{:.1f}"),
                           ("BLEU, greedy", "greedy_bleu", "{:.1f}"),
                           ("train target tokens/s", "train_tokens_per_second", "{:,.0f}"),
                           ("greedy decode sentences/s", "greedy_sentences_per_second", "{:,.0f}"),
                           ("beam decode sentences/s", "beam_sentences_per_second", "{:,.0f}"),
                           ("training minutes", "minutes", "{:.1f}"), ("<unk> in beam output", "unk", "{}")):
        theirs = (peer or {}).get(key)
        found = ratio(ours[key], theirs) if isinstance(theirs, (int, float)) else None
        rows.append([name, fmt.format(ours[key])] + ([] if peer is None else [
            fmt.format(theirs) if theirs is not None else "?", f"{found:.2f}" if found is not None else ""]))
    print_table(["", "keras-seq2seq"] + ([] if peer is None else ["OpenNMT-py 3.5.1", "ratio"]), rows)


if __name__ == "__main__":
    sys.exit(main())
