"""A training run as a YAML file: what `seq2seq train --config FILE` reads, what `seq2seq config`
prints, and the `train.yaml` every model directory keeps.

The keys are the names of `seq2seq train`'s options, flat, with `_` for `-`, as in OpenNMT-py's
YAML files: `learning_rate: 0.002` is `--learning-rate 0.002`, `layers: 2` is `--layers 2`.
Options given on the command line win over the file. One name, one meaning, in `--help`, in the
file and in the docs.

    preset: tatoeba-small
    data: data/spa-eng/train.tsv
    dev: data/spa-eng/dev.tsv
    source_lang: spa
    epochs: 20              # --epochs 20
    source_tokenizer: word  # or the whole setting: {kind: word, lowercase: true}

Every `Settings` field has an option (`SETTING_OPTIONS`, plus the tokeniser options), so the
settings of any model print as a file that trains the same model again (`options_of`, then
`apply`). Limits that may be absent (`max_vocab`, `max_source_len`, `max_target_len`,
`max_minutes`, `max_output_len`) are 0 for "none", since a null value means "not given".
"""

from __future__ import annotations

from pathlib import Path

from keras_seq2seq.config import Settings, sentence_batches_if_asked
from keras_seq2seq.errors import ConfigError

# option name -> (settings section or "" for the top level, field), in the order files list them.
SETTING_OPTIONS: dict[str, tuple[str, str]] = {
    **{name: ("text", name) for name in ("min_freq", "max_vocab", "vocab_size", "subword_model", "joint_vocab")},
    "architecture": ("model", "architecture"), "cell": ("model", "cell"),
    "embedding_dim": ("model", "embedding_dim"), "units": ("model", "units"), "layers": ("model", "num_layers"),
    **{name: ("model", name) for name in ("dropout", "attention", "bidirectional", "bridge", "tie_embeddings",
                                          "scaled_attention", "param_init", "precision")},
    # The Transformer's own (commands/architecture_options.py).
    **{name: ("model", name) for name in ("heads", "ffn_dim", "decoder_layers", "attention_dropout", "pre_norm",
                                          "positions", "share_embeddings")},
    **{name: ("train", name) for name in (
        "epochs", "batch_size", "batch_tokens", "length_step", "learning_rate", "min_learning_rate", "clipnorm",
        "label_smoothing", "patience", "select_on", "eval_every", "warmup_steps", "lr_schedule",
        "plateau_patience", "plateau_factor", "max_minutes", "max_source_len", "max_target_len", "seed",
        "checkpoint_every", "devices")},
    "max_output_len": ("", "max_output_len"),
}
# Tokenisers: a kind per side (or both), what both sides share, and each side's Chinese script
# conversion. A side's value may also be its whole setting as a mapping, e.g. {kind: word, lowercase: true}.
TOKENIZER_OPTIONS = ("tokenizer", "source_tokenizer", "target_tokenizer", "lowercase", "normalize",
                     "source_convert", "target_convert")
NO_NORMALIZATION = "none"  # `normalize: none`: no Unicode normalisation (the setting's None)
NO_CONVERSION = "none"  # `source_convert: none`: the side's script as written (no `convert` in the setting)
# Settings whose None means "no limit" (or "from the data"), written 0 in files and flags.
NONE_AS_ZERO = {"max_vocab", "max_source_len", "max_target_len", "max_minutes", "max_output_len"}
# Options that set several settings at once: never printed, always accepted.
SHORTHANDS = {"max_len": ("max_source_len", "max_target_len")}
# Tokeniser settings that are the trained model, not a choice: a new run learns its own.
_TRAINED = ("model_file",)


def apply(settings: Settings, options: dict) -> Settings:
    """`settings` with the setting options in `options` applied (None: keep), checked."""
    data = settings.to_dict()
    options = dict(options)
    for shorthand, names in SHORTHANDS.items():
        if options.get(shorthand) is not None:
            for name in names:
                options[name] = options[name] if options.get(name) is not None else options[shorthand]
    for name, (section, field) in SETTING_OPTIONS.items():
        value = options.get(name)
        if value is None:
            continue
        if name in NONE_AS_ZERO and value == 0:
            value = None
        (data[section] if section else data)[field] = value
    sentence_batches_if_asked(data["train"], {name for name, value in options.items() if value is not None})
    for side in ("source", "target"):
        change = _tokenizer_change(options.get(f"{side}_tokenizer") or options.get("tokenizer"), side)
        if options.get("lowercase") is not None:
            change["lowercase"] = bool(options["lowercase"])
        if options.get("normalize") is not None:
            change["normalize"] = None if options["normalize"] == NO_NORMALIZATION else options["normalize"]
        convert = options.get(f"{side}_convert")
        if convert is not None:
            change["convert"] = None if convert == NO_CONVERSION else convert
        key = f"{side}_tokenizer"
        if "kind" in change and change["kind"] != data["text"][key].get("kind"):
            # Another kind: the old kind's trained files mean nothing to it.
            data["text"][key] = {k: v for k, v in data["text"][key].items() if k not in _TRAINED}
        data["text"][key] = {**data["text"][key], **change}
        if data["text"][key].get("convert", 0) is None:  # no conversion is no `convert` at all
            del data["text"][key]["convert"]
    return Settings.from_dict(data)


def _tokenizer_change(value, side: str) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"kind": value}
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if key not in _TRAINED}
    raise ConfigError(f"{side}_tokenizer must be a kind such as word, or a setting such as "
                      f"{{kind: word, lowercase: true}}, got {value!r}")


def options_of(settings: Settings) -> dict:
    """The options that make `settings` from any preset: every setting, by option name."""
    data = settings.to_dict()
    options = {}
    sides = [{k: v for k, v in (data["text"][f"{side}_tokenizer"] or {}).items() if k not in _TRAINED}
             for side in ("source", "target")]
    converts = [side.pop("convert", None) or NO_CONVERSION for side in sides]
    shared = [{k: v for k, v in side.items() if k != "kind"} for side in sides]
    if shared[0] == shared[1]:
        options["source_tokenizer"] = sides[0].get("kind", "word")
        options["target_tokenizer"] = sides[1].get("kind", "word")
        options["lowercase"] = bool(shared[0].get("lowercase", False))
        normalize = shared[0].get("normalize", "NFC")
        options["normalize"] = NO_NORMALIZATION if normalize is None else normalize
    else:
        options["source_tokenizer"], options["target_tokenizer"] = sides
    options["source_convert"], options["target_convert"] = converts
    for name, (section, field) in SETTING_OPTIONS.items():
        value = (data[section] if section else data)[field]
        options[name] = 0 if value is None and name in NONE_AS_ZERO else value
    return options


# ------------------------------------------------------------------------------ the file


def dump(options: dict, comments: dict[str, str] | None = None, header: str = "") -> str:
    """YAML text of `options` (None values left out), one key per line, each with its comment."""
    import yaml

    comments = comments or {}
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    for key, value in options.items():
        if value is None:
            continue
        text = yaml.safe_dump({key: value}, default_flow_style=True, width=10_000, allow_unicode=True,
                              sort_keys=False).strip()[1:-1]  # "{key: value}" without its braces
        comment = comments.get(key, "")
        lines.append(f"{text}  # {comment}" if comment else text)
    return "\n".join(lines) + "\n"


def load(path: str | Path) -> dict[str, tuple[object, int]]:
    """The file's `{key: (value, line)}`; a `ConfigError` naming the file and line for a file
    that is not a YAML mapping of option names, or that gives a key twice."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read it as UTF-8 text ({error})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{path}:{node.start_mark.line + 1}: expected option names with values "
                              f"(`epochs: 10`, one per line), got a YAML {node.id}")
        found: dict[str, tuple[object, int]] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise ConfigError(f"{path}:{line}: option names are words such as epochs, got {key!r}")
            name = key.replace("-", "_")
            if name in found:
                raise ConfigError(f"{path}:{line}: {key} is given twice (first on line {found[name][1]})")
            found[name] = (loader.construct_object(value_node, deep=True), line)
        return found
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    finally:
        loader.dispose()


# ------------------------------------------------------------------------------ a model's run

# The options besides the settings that decide what a run learns from (a model's `info["run"]`).
RUN_OPTIONS = ("preset", "task", "task_size", "data", "target_data", "format", "source_lang", "source_column",
               "target_column", "skip_bad_lines", "dev", "dev_size", "test", "stream", "shuffle_buffer")


def run_options(config: dict) -> dict:
    """The options that made the model whose `config.json` is `config`: its run, then its settings.

    Models record their run under `"run"`; older ones only their data, from which the task, the
    file and how it was read are recovered (columns 1 -> 0 for a plain TSV, as they were read then).
    """
    run = dict(config.get("run") or {})
    if not run:
        data = config.get("data") or {}
        if "task" in data:
            run = {"task": data["task"], "task_size": data.get("train_pairs")}
        elif "file" in data:
            run = {"data": data["file"]}
            if data.get("source_lang"):
                run["source_lang"] = data["source_lang"]
            elif data.get("format") not in (None, "auto"):
                run["format"] = data["format"]
            if not data.get("source_lang") and "source_column" in data:
                run.update(source_column=data["source_column"], target_column=data.get("target_column"))
    run = {key: value for key, value in run.items() if key in RUN_OPTIONS and value is not None}
    return {**run, **options_of(Settings.from_dict(config.get("settings") or {}))}
