"""The model card: a `README.md` in every model directory, written from its `config.json`.

Someone handed a model directory should learn from one page what it is and whether its scores
can be trusted and compared: the data it learnt from (files, sizes, how they were read, their
licence), its settings, its dev and test scores with the sacreBLEU signature each was computed
under, how long it trained on what hardware, and the command that made it. Everything comes from
the record `config.json` keeps, so the card is rewritten with it and never disagrees with it.
"""

from __future__ import annotations

FILE = "README.md"


def render(config: dict, path: str, settings_yaml: str) -> str:
    """The card of the model directory at `path` whose `config.json` is `config`."""
    name = path.replace("\\", "/").rstrip("/").rpartition("/")[2] or path
    settings = config.get("settings", {})
    model, text = settings.get("model", {}), settings.get("text", {})
    versions = config.get("versions", {})
    lines = [f"# {name}", "", _summary(model, text, config), ""]
    if versions:
        lines += [f"Made with keras-seq2seq {versions.get('keras_seq2seq', '?')} (Keras {versions.get('keras', '?')}, "
                  f"{versions.get('backend', '?')} backend).", ""]
    task = (config.get("data") or {}).get("task")
    lines += ["## Use", "", "```bash", f"seq2seq translate --model {path} < input.txt",
              f"seq2seq evaluate --model {path} " + (f"--task {task}" if task else "--data test.tsv"), "```", ""]
    lines += _data(config.get("data") or {}, config.get("training") or {})
    lines += _scores(config)
    lines += _training(config)
    lines += ["## Settings", "", "What `seq2seq config --model` prints; `seq2seq train --config FILE` reads it back:",
              "", "```yaml", settings_yaml.rstrip(), "```", ""]
    return "\n".join(lines)


def _summary(model: dict, text: dict, config: dict) -> str:
    cell = str(model.get("cell", "lstm")).upper()
    layers = model.get("num_layers", 1)
    encoder = "bidirectional " if model.get("bidirectional") else ""
    attention = model.get("attention", "none")
    kinds = [(text.get(f"{side}_tokenizer") or {}).get("kind", "word") for side in ("source", "target")]
    languages = (config.get("data") or {}).get("source_lang")
    direction = f" ({languages} source)" if languages else ""
    return (f"An RNN encoder-decoder{direction}: {layers} {encoder}{cell} layer{'s' if layers != 1 else ''} of "
            f"{model.get('units', '?')} units per side, embeddings of {model.get('embedding_dim', '?')}, "
            f"{'no attention' if attention == 'none' else attention + ' attention'}; {kinds[0]} tokens in, "
            f"{kinds[1]} tokens out.")


def _data(data: dict, training: dict) -> list[str]:
    lines = ["## Data", ""]
    if "task" in data:
        lines += [f"The built-in task `{data['task']}`: {data.get('train_pairs', 0):,} generated training pairs.", ""]
    files = data.get("files") or ([{"role": "train", "path": data["file"]}] if "file" in data else [])
    if files:
        lines += ["| role | file | bytes | pairs read |", "|---|---|---|---|"]
        for entry in files:
            size = f"{entry['bytes']:,}" if isinstance(entry.get("bytes"), int) else "?"
            pairs = f"{entry['pairs']:,}" if isinstance(entry.get("pairs"), int) else "?"
            lines.append(f"| {entry.get('role', '?')} | `{entry.get('path', '?')}` | {size} | {pairs} |")
        lines.append("")
    reading = _reading(data)
    if reading:
        lines += [f"Read as {reading}.", ""]
    if training:
        kept, dropped = training.get("train_pairs"), training.get("dropped_by_length", 0)
        lines += [f"Trained on {kept:,} pairs ({dropped:,} over the length limits dropped); "
                  f"dev: {training.get('dev_pairs', 0):,} pairs.", ""] if isinstance(kept, int) else []
    licence = data.get("licence")
    if licence:
        lines += [f"Licence of the data: {licence}", ""]
    return lines


def _reading(data: dict) -> str:
    if data.get("format") == "aligned":
        return "two aligned plain-text files"
    if data.get("format") == "anki" or data.get("source_lang"):
        lang = data.get("source_lang")
        return (f"a Tatoeba/Anki file, English in column 0, " +
                (f"source language {lang}" if lang else "the other language as the source"))
    if "source_column" in data:
        return (f"{data.get('format') or 'tsv'}, column {data['source_column']} → column "
                f"{data.get('target_column')} (source → target)")
    return ""


def _scores(config: dict) -> list[str]:
    training, test = config.get("training") or {}, config.get("test") or {}
    rows = []
    best = training.get("best") or {}
    signatures = training.get("signatures") or {}
    if "val_bleu" in best or "val_chrf" in best:
        where = f"dev, best evaluation (epoch {best.get('epoch', '?')}, step {best.get('step', '?')}), greedy"
        rows.append((where, best.get("val_bleu"), best.get("val_chrf"), signatures))
    if test:
        where = (f"test `{test.get('file', '?')}`, {test.get('sentences', '?')} sentences, "
                 f"{test.get('search', 'greedy')}")
        rows.append((where, test.get("bleu"), test.get("chrf"), test.get("signatures") or {}))
    if not rows:
        return ["## Scores", "", "No BLEU or chrF was computed for this model "
                "(`seq2seq evaluate --model DIR --data TEST` computes them).", ""]
    lines = ["## Scores", "", "| set | BLEU | chrF |", "|---|---|---|"]
    for where, bleu, chrf, _ in rows:
        lines.append(f"| {where} | {_score(bleu)} | {_score(chrf)} |")
    lines.append("")
    quoted = {(name, signature) for *_, found in rows for name, signature in found.items()}
    for name, signature in sorted(quoted):
        lines.append(f"- {'BLEU' if name == 'bleu' else 'chrF'} signature: `{signature}`")
    lines.append("")
    return lines


def _score(value) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "–"


def _training(config: dict) -> list[str]:
    training = config.get("training") or {}
    lines = ["## Training", ""]
    if config.get("command"):
        lines += ["The command that made it:", "", "```bash", config["command"], "```", ""]
    if training:
        seconds = float(training.get("seconds", 0))
        lines.append(f"- time: {seconds:,.0f} s ({seconds / 60:.1f} minutes), {training.get('epochs', '?')} epochs; "
                     f"{training.get('target_tokens_per_second', 0):,.0f} target tokens/s")
        if training.get("batches"):
            batches = training["batches"]
            lines.append(f"- batches: {batches.get('description', '')}; padding {batches.get('padding_share', 0):.0%} "
                         f"of the target positions")
    hardware = training.get("hardware") or {}
    if hardware:
        devices = ", ".join(hardware.get("devices", [])) or f"({hardware.get('backend', '?')} backend)"
        lines.append(f"- hardware: {hardware.get('cpu') or hardware.get('machine', '?')}, {hardware.get('cores', '?')} "
                     f"cores; Keras devices: {devices}; {hardware.get('platform', '')}")
    if training.get("resumed_from"):
        lines.append(f"- resumed {len(training['resumed_from'])} time(s) from a checkpoint")
    lines.append("")
    return lines
