"""The models a server holds: loaded once at start, named, and described for `GET /v1/models`.

`--model runs/dates` serves the directory under its own name (`dates`); `--model fast=runs/dates`
chooses the name. The first model is the default for requests that do not name one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keras_seq2seq.data.dialogue import recorded_context_turns
from keras_seq2seq.errors import ConfigError


@dataclass
class ServedModel:
    name: str
    directory: Path
    translator: object  # a Translator, or a runtime.ExportedTranslator for an ONNX export directory

    @property
    def exported(self) -> bool:
        """An ONNX export: decoded by onnxruntime, greedy and beam search only (no sampling)."""
        return getattr(self.translator, "exported", False)

    @property
    def has_attention(self) -> bool:
        """Whether `/v1/translate` can return attention maps for this model."""
        m = self.translator.settings.model  # from the settings: an ONNX export has no Keras model
        return m.architecture == "transformer" or m.attention != "none"  # cross-attention, or the RNN's

    @property
    def context_turns(self) -> int | None:
        """For a dialogue model (trained on prepare-dialogue pairs), the turns it reads; else None."""
        return recorded_context_turns(self.translator.info)

    def describe(self) -> dict:
        """What a client needs to pick a model: languages, tokenisers, sizes, recorded quality."""
        t = self.translator
        data = t.info.get("data", {})
        training = t.info.get("training", {})
        checkpoint = t.info.get("checkpoint", {})
        source_lang = data.get("source_lang")
        m = t.settings.model
        return {
            "name": self.name,  # (not its directory: a client has no business with the server's files)
            "task": data.get("task"),
            "languages": {"source": source_lang, "target": _target_language(source_lang, data)},
            "source_tokenizer": t.settings.text.source_tokenizer,
            "target_tokenizer": t.settings.text.target_tokenizer,
            "source_vocab_size": len(t.source_vocab),
            "target_vocab_size": len(t.target_vocab),
            "architecture": _architecture(m),
            "has_attention": self.has_attention,
            "runtime": f"onnx-{self.translator.precision}" if self.exported else "keras",
            "max_output_len": t.max_output_len,
            # The saved checkpoint's dev scores, as recorded in config.json at training time
            # (null for a model trained without a dev set).
            "dev_bleu": checkpoint.get("val_bleu"),
            "dev_chrf": checkpoint.get("val_chrf"),
            "dev_loss": checkpoint.get("val_loss"),  # models selected on dev loss (dialogue)
            "trained_epochs": training.get("epochs"),
            # A dialogue model answers POST /v1/reply with the last `context_turns` turns as its input.
            "dialogue": {"context_turns": self.context_turns} if self.context_turns else None,
        }


def _architecture(m) -> dict:
    """The network's kind and sizes, as `GET /v1/models` describes it."""
    if m.architecture == "transformer":
        return {"kind": "transformer", "units": m.units, "layers": m.num_layers,
                "decoder_layers": m.decoder_layers or m.num_layers, "heads": m.heads, "ffn_dim": m.ffn_dim or 4 * m.units}
    return {"kind": "rnn", "cell": m.cell, "units": m.units, "layers": m.num_layers, "attention": m.attention,
            "bidirectional": m.bidirectional}


def parse_model_specs(specs: list[str]) -> list[tuple[str, Path]]:
    """`["runs/dates", "spa=runs/spa-eng"]` -> `[("dates", …), ("spa", …)]`; names must differ."""
    parsed: list[tuple[str, Path]] = []
    for spec in specs:
        name, sep, directory = spec.partition("=")
        if not sep:
            directory = spec
            name = Path(spec.rstrip("/\\")).name or spec
        if not name or not directory:
            raise ConfigError(f"--model {spec!r}: expected DIR or NAME=DIR")
        if any(name == other for other, _ in parsed):
            raise ConfigError(f"--model {spec!r}: the name {name!r} is used twice; "
                              f"name them with NAME=DIR")
        parsed.append((name, Path(directory)))
    if not parsed:
        raise ConfigError("give at least one --model DIR")
    return parsed


def load_models(specs: list[str], shortlist: int = 0) -> dict[str, ServedModel]:
    """Load every model directory (a `ModelFileError` names the one that is broken); with
    `shortlist` > 0, each decodes greedy and beam requests with that vocabulary shortlist.
    An ONNX export directory (`seq2seq export`) is served by the runtime, without Keras."""
    from keras_seq2seq.runtime.manifest import is_export

    models = {}
    for name, directory in parse_model_specs(specs):
        if is_export(directory):
            from keras_seq2seq.runtime import load

            translator = load(directory)
        else:
            from keras_seq2seq.translator import Translator

            translator = Translator.load(directory)
        if shortlist and translator.shortlist is None:
            raise ConfigError(f"--shortlist: model {name!r} ({directory}) has no shortlist.json; build it "
                              f"with `seq2seq shortlist --model {directory} --data TRAIN`")
        translator.use_shortlist(shortlist)
        models[name] = ServedModel(name, directory, translator)
    return models


def _target_language(source_lang: str | None, data: dict) -> str | None:
    """Tatoeba/Anki files hold English first: any other source language translates to English,
    and English to the pair's other language when the pair is recorded (e.g. "cmn-eng")."""
    if not source_lang:
        return None
    if source_lang != "eng":
        return "eng"
    return (data.get("pair") or "").split("-")[0] or None
