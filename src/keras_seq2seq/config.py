"""Settings as dataclasses, named presets, and their JSON form in a model directory.

A run is fully described by one `Settings`: what the text looks like (tokenisers, vocabulary
limits), what the network looks like, and how it is trained. The CLI, the Python API and the saved
model directory all speak this one structure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from keras_seq2seq.errors import ConfigError


# See text/tokenizers.py (char, word), text/subwords.py and text/segmenters.py (jieba: Chinese words).
TOKENIZER_KINDS = ("char", "word", "sentencepiece", "jieba")
SUBWORD_MODELS = ("unigram", "bpe")


@dataclass
class TextSettings:
    source_tokenizer: dict = field(default_factory=lambda: {"kind": "word"})
    target_tokenizer: dict = field(default_factory=lambda: {"kind": "word"})
    min_freq: int = 1                  # tokens seen fewer times become <unk> (word/char)
    max_vocab: int | None = None       # per side, the 4 reserved tokens included (word/char)
    # Subwords, for sides whose tokenizer kind is "sentencepiece" (learnt from the training text):
    vocab_size: int = 8000             # pieces per model, the 4 reserved included (an upper bound)
    subword_model: str = "unigram"     # "unigram" or "bpe"
    joint_vocab: bool = False          # one model and vocabulary shared by source and target

    def __post_init__(self):
        if not isinstance(self.vocab_size, int) or self.vocab_size <= 4:
            raise ConfigError(f"vocab_size must be a whole number above the 4 reserved tokens, "
                              f"got {self.vocab_size!r}")
        if self.subword_model not in SUBWORD_MODELS:
            raise ConfigError(f"subword_model must be one of {SUBWORD_MODELS}, got {self.subword_model!r}")
        kinds = [(tokenizer or {}).get("kind", "word") for tokenizer in (self.source_tokenizer, self.target_tokenizer)]
        if self.joint_vocab and kinds != ["sentencepiece", "sentencepiece"]:
            raise ConfigError(f"joint_vocab shares one SentencePiece model between both sides: it needs the "
                              f"sentencepiece tokenizer on both (--tokenizer sentencepiece), got source "
                              f"{kinds[0]!r} and target {kinds[1]!r}")


ARCHITECTURES = ("rnn", "transformer")  # see architectures.py
CELLS = ("lstm", "gru")
POSITION_KINDS = ("sinusoidal", "learnt")  # Transformer position encodings (layers/positions.py)
LR_SCHEDULES = ("constant", "inverse-sqrt")  # see training/schedules.py
ATTENTION_KINDS = ("none", "bahdanau", "luong-dot", "luong-general")
# Keras dtype policies: mixed ones compute in 16 bits and keep float32 weights (and logits).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
SELECT_ON = ("bleu", "chrf", "loss")


@dataclass
class ModelSettings:
    architecture: str = "rnn"          # "rnn" or "transformer"; settings saved without it are "rnn"
    cell: str = "lstm"                 # "lstm" or "gru"
    embedding_dim: int = 128           # rnn only: a Transformer's embeddings have its model size
    units: int = 256                   # rnn: recurrent size; transformer: the model size (d_model)
    num_layers: int = 1                # layers on each side (transformer: encoder blocks)
    dropout: float = 0.1
    attention: str = "none"            # "none", "bahdanau", "luong-dot" or "luong-general"
    bidirectional: bool = False        # bidirectional encoder (units / 2 per direction)
    bridge: bool = False               # learnt map from encoder final states to decoder states
    tie_embeddings: bool = False       # output layer = target embeddings transposed (+ a projection
                                       # from units to embedding_dim when they differ)
    scaled_attention: bool = False     # Luong scores divided by sqrt(units) (layers/attention.py)
    param_init: float = 0.0            # > 0: every weight starts uniform in ±param_init (OpenNMT's
                                       # scheme); 0: Keras' per-layer initialisers (Glorot, ...)
    precision: str = "float32"         # one of PRECISIONS; mixed ones pay off on GPUs/TPUs, not
                                       # on CPUs without bf16 matrix units (docs/performance.md)
    # Transformer only (architecture "transformer"; see transformer.py and docs/transformer.md):
    heads: int = 8                     # attention heads (units must be a multiple)
    ffn_dim: int = 0                   # feed-forward inner size; 0: 4 x units
    decoder_layers: int = 0            # decoder blocks; 0: num_layers
    attention_dropout: float = 0.1     # dropout on attention weights
    pre_norm: bool = True              # layer norm before each sublayer (False: after, as the paper)
    positions: str = "sinusoidal"      # "sinusoidal" or "learnt"
    share_embeddings: bool = False     # one embedding for source and target (needs joint_vocab)

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if self.cell not in CELLS:
            raise ConfigError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.attention not in ATTENTION_KINDS:
            raise ConfigError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        for name in ("embedding_dim", "units", "num_layers"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.bidirectional and self.units % 2:
            raise ConfigError(f"a bidirectional encoder needs an even number of units, got {self.units}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if not isinstance(self.param_init, (int, float)) or self.param_init < 0:
            raise ConfigError(f"param_init must be a number >= 0, got {self.param_init!r}")
        if not isinstance(self.heads, int) or self.heads < 1:
            raise ConfigError(f"heads must be a positive integer, got {self.heads!r}")
        for name in ("ffn_dim", "decoder_layers"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ConfigError(f"{name} must be a whole number >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.attention_dropout < 1.0:
            raise ConfigError(f"attention_dropout must be in [0, 1), got {self.attention_dropout}")
        if self.positions not in POSITION_KINDS:
            raise ConfigError(f"positions must be one of {POSITION_KINDS}, got {self.positions!r}")
        if self.architecture == "transformer" and self.units % self.heads:
            raise ConfigError(f"the transformer's model size (units, {self.units}) must be a multiple of "
                              f"heads ({self.heads})")
        if self.share_embeddings and self.architecture != "transformer":
            raise ConfigError("share_embeddings is a transformer option (architecture \"transformer\")")


@dataclass
class TrainSettings:
    epochs: int = 10
    batch_size: int = 64               # sentences per batch (without batch_tokens)
    batch_tokens: int = 0              # > 0: batches of about this many target tokens, padding
                                       # included, instead of batch_size sentences (data/batching.py)
    learning_rate: float = 1e-3
    clipnorm: float = 1.0              # global gradient-norm clipping; 0 turns it off
    label_smoothing: float = 0.0
    patience: int = 3                  # epochs without dev improvement before stopping; 0 = never
    seed: int = 0
    max_source_len: int | None = None  # training pairs longer than this (in tokens) are dropped
    max_target_len: int | None = None
    length_step: int = 8               # padded lengths are multiples of this (few compiled shapes)
    max_minutes: float | None = None   # stop training after this much wall time (best weights kept)
    select_on: str = "bleu"            # dev score that picks the checkpoint: "bleu", "chrf" or "loss"
    eval_every: int = 0                # decode and score dev every N steps (0: at each epoch end)
    warmup_steps: int = 0              # learning rate rises linearly over these first steps
    lr_schedule: str = "constant"      # after warm-up: "constant", or "inverse-sqrt" (falls as
                                       # 1/sqrt(step) from learning_rate at warmup_steps; training/schedules.py)
    plateau_patience: int = 0          # dev evaluations without improvement before lowering the rate (0: never)
    plateau_factor: float = 0.5        # the rate is multiplied by this on a plateau
    min_learning_rate: float = 1e-5    # ... but never below this
    checkpoint_every: int = 0          # also save the training state (to resume) every N steps (0: epoch ends only)
    devices: int = 1                   # data-parallel training: each batch split across this many devices (JAX)

    def __post_init__(self):
        for name in ("epochs", "batch_size", "length_step", "devices"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.select_on not in SELECT_ON:
            raise ConfigError(f"select_on must be one of {SELECT_ON}, got {self.select_on!r}")
        for name in ("eval_every", "warmup_steps", "plateau_patience", "patience", "checkpoint_every", "batch_tokens"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ConfigError(f"{name} must be a whole number >= 0, got {getattr(self, name)!r}")
        if not 0 < self.plateau_factor < 1:
            raise ConfigError(f"plateau_factor must be in (0, 1), got {self.plateau_factor}")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ConfigError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.lr_schedule == "inverse-sqrt" and not self.warmup_steps:
            raise ConfigError("the inverse-sqrt schedule peaks at warmup_steps: set warmup_steps > 0")
        if self.lr_schedule == "inverse-sqrt" and self.plateau_patience:
            raise ConfigError("the inverse-sqrt schedule sets the learning rate at every step; it cannot be "
                              "combined with plateau_patience (lowering the rate on a plateau)")


@dataclass
class Settings:
    text: TextSettings = field(default_factory=TextSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    max_output_len: int | None = None  # generation limit in tokens; set from the data when None

    def __post_init__(self):
        if self.model.share_embeddings and not self.text.joint_vocab:
            raise ConfigError("share_embeddings gives source and target one embedding matrix: it needs one "
                              "joint vocabulary (joint_vocab, with the sentencepiece tokenizer on both sides)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        # Saved settings may have been edited by hand: check the shapes the dataclasses assume.
        sections = [data.get(name, {}) for name in ("text", "model", "train")] if isinstance(data, dict) else [None]
        if not all(isinstance(section, dict) for section in sections):
            raise ConfigError("invalid settings: an object with \"text\", \"model\" and \"train\" objects expected")
        for side in ("source_tokenizer", "target_tokenizer"):
            if not isinstance(sections[0].get(side) or {}, dict):
                raise ConfigError(f"invalid settings: text.{side} must be an object such as {{\"kind\": \"word\"}}")
        limit = data.get("max_output_len")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ConfigError(f"invalid settings: max_output_len must be a positive integer, got {limit!r}")
        try:
            return cls(
                text=TextSettings(**data.get("text", {})),
                model=ModelSettings(**data.get("model", {})),
                train=TrainSettings(**data.get("train", {})),
                max_output_len=data.get("max_output_len"),
            )
        except TypeError as error:
            raise ConfigError(f"invalid settings: {error}") from None

    def updated(self, **overrides) -> "Settings":
        """A copy with `section__field=value` or plain `field=value` overrides (None = keep)."""
        data = self.to_dict()
        for key, value in overrides.items():
            if value is None:
                continue
            section, _, name = key.rpartition("__")
            sections = [section] if section else [s for s in ("text", "model", "train") if key in data[s]]
            if key == "max_output_len":
                data[key] = value
            elif len(sections) == 1 and name in data[sections[0]]:
                current = data[sections[0]][name]
                # Dict settings (the tokenisers) take partial updates: {"lowercase": True}.
                data[sections[0]][name] = {**current, **value} if isinstance(current, dict) else value
            else:
                raise ConfigError(f"unknown setting {key!r}")
        sentence_batches_if_asked(data["train"], {key.rpartition("__")[2] for key, value in overrides.items()
                                                  if value is not None})
        return Settings.from_dict(data)


def sentence_batches_if_asked(train: dict, given: set[str]) -> None:
    """A batch size given without a token budget asks for batches of that many sentences: the
    token batches a preset cuts are turned off in `train` (a settings dict's train section)."""
    if "batch_size" in given and "batch_tokens" not in given:
        train["batch_tokens"] = 0


# The network and training of both Chinese presets (tatoeba-zh-en, tatoeba-en-zh): they differ in
# their tokenisers only.
_CHINESE_ENGLISH_NETWORK = {
    "model": {"embedding_dim": 256, "units": 256, "num_layers": 2, "dropout": 0.3,
              "attention": "luong-general", "bidirectional": True, "scaled_attention": True,
              "param_init": 0.1},
    "train": {"epochs": 40, "batch_size": 128, "batch_tokens": 2048, "learning_rate": 3e-3, "patience": 5,
              "plateau_patience": 1, "label_smoothing": 0.1, "max_source_len": 50,
              "max_target_len": 50, "length_step": 4},
}

PRESETS: dict[str, dict] = {
    # Character-level date normalisation: small and fast, learnt in a few minutes on 2 CPU cores.
    "dates": {
        "text": {"source_tokenizer": {"kind": "char"}, "target_tokenizer": {"kind": "char"}},
        "model": {"embedding_dim": 32, "units": 128, "num_layers": 1, "dropout": 0.0},
        "train": {"epochs": 10, "batch_size": 64, "learning_rate": 5e-3, "patience": 3},
    },
    "numbers": {
        "text": {"source_tokenizer": {"kind": "char"}, "target_tokenizer": {"kind": "word"}},
        "model": {"embedding_dim": 64, "units": 256, "num_layers": 1, "dropout": 0.0},
        "train": {"epochs": 12, "batch_size": 64, "learning_rate": 3e-3, "patience": 3},
    },
    "reverse": {
        "text": {"source_tokenizer": {"kind": "char"}, "target_tokenizer": {"kind": "char"}},
        "model": {"embedding_dim": 64, "units": 256, "num_layers": 1, "dropout": 0.0},
        "train": {"epochs": 12, "batch_size": 64, "learning_rate": 3e-3},
    },
    # Word-level Tatoeba pairs (e.g. ../shared/data/spa-eng): the core model, no attention.
    # Sized for a CPU: 256 units and batches of 2,048 target tokens (about 200 sentences of
    # Tatoeba's typical 8-10 tokens) keep the matrix products large and cheap. Every preset for
    # real corpora cuts token batches (bench/speed.py: more tokens/s than sentence batches, for
    # both toolkits); its batch_size is for dev batches and --stream.
    # All tatoeba-* presets pad lengths in steps of 4, not 8: about twice the training shapes
    # (a few seconds of compiling each) for less padding, which pays off in runs of half an
    # hour (docs/performance.md). The default stays 8 for small tasks, where compiling dominates.
    "tatoeba-word": {
        "text": {"min_freq": 2, "max_vocab": 16000},
        "model": {"embedding_dim": 256, "units": 256, "num_layers": 1, "dropout": 0.2},
        "train": {"epochs": 20, "batch_size": 128, "batch_tokens": 2048, "learning_rate": 2e-3, "patience": 3,
                  "max_source_len": 50, "max_target_len": 50, "length_step": 4},
    },
    # The quality recipe for a 30-minute CPU budget: bidirectional 2-layer encoder, Luong
    # "general" attention with input feeding, label smoothing; decode with --beam-size 5.
    # Uniform ±0.1 weights and scaled attention scores: with Keras' initialisers and unscaled
    # scores, attention collapsed onto the first source token within ~100 steps and stayed
    # there (see layers/attention.py); with both, it spreads over the source from the first
    # epoch on (docs/performance.md has the dev BLEU of both).
    "tatoeba-small": {
        "text": {"min_freq": 2, "max_vocab": 16000},
        "model": {"embedding_dim": 256, "units": 256, "num_layers": 2, "dropout": 0.2,
                  "attention": "luong-general", "bidirectional": True, "scaled_attention": True,
                  "param_init": 0.1},
        "train": {"epochs": 30, "batch_size": 128, "batch_tokens": 2048, "learning_rate": 3e-3, "patience": 3,
                  "label_smoothing": 0.1, "max_source_len": 50, "max_target_len": 50, "length_step": 4},
    },
    # tatoeba-small on SentencePiece subwords: 8k unigram pieces per side (no <unk> for rare
    # words, a smaller output layer than 16k words), target embeddings tied to the output layer.
    # Subword sentences are longer, hence the higher length limits.
    "tatoeba-subword": {
        "text": {"source_tokenizer": {"kind": "sentencepiece"}, "target_tokenizer": {"kind": "sentencepiece"},
                 "vocab_size": 8000, "subword_model": "unigram"},
        "model": {"embedding_dim": 256, "units": 256, "num_layers": 2, "dropout": 0.2,
                  "attention": "luong-general", "bidirectional": True, "tie_embeddings": True,
                  "scaled_attention": True, "param_init": 0.1},
        "train": {"epochs": 30, "batch_size": 128, "batch_tokens": 2048, "learning_rate": 3e-3, "patience": 3,
                  "label_smoothing": 0.1, "max_source_len": 80, "max_target_len": 80, "length_step": 4},
    },
    # Dialogue: DailyDialog context -> reply pairs from `seq2seq prepare-dialogue --context-turns 3`
    # (../shared/data/dailydialog), for a 30-minute CPU budget (--max-minutes 30). The
    # tatoeba-small recipe with room for three turns of context (sources up to 100 tokens, the
    # turns joined by one separator token) and replies up to 50. Dev selection on dev loss (its
    # exponential is the perplexity), not BLEU: a reply has many good answers and one reference,
    # so dev BLEU is tiny and noisy, and greedy decoding at each evaluation would favour the
    # checkpoint whose safe, generic replies share most words with anything. Loss needs no
    # decoding, so it also costs seconds, not minutes. No label smoothing: it trades perplexity,
    # which is what is selected on and reported, for calibration nobody here uses.
    "dailydialog-small": {
        "text": {"min_freq": 2, "max_vocab": 12000},
        "model": {"embedding_dim": 256, "units": 256, "num_layers": 2, "dropout": 0.3,
                  "attention": "luong-general", "bidirectional": True, "scaled_attention": True,
                  "param_init": 0.1},
        "train": {"epochs": 30, "batch_size": 128, "batch_tokens": 2048, "learning_rate": 3e-3, "patience": 3,
                  "max_source_len": 100, "max_target_len": 50, "length_step": 4, "select_on": "loss"},
    },
    # Chinese ↔ English on Tatoeba (../shared/data/cmn-eng, 26k pairs), for a 30-minute CPU
    # budget: tatoeba-small's network on Chinese characters (Traditional converted to Simplified
    # with OpenCC, a smaller character set; needs `pip install 'keras-seq2seq[zh]'`) and English
    # words. Small data: more dropout, and the rate halves when dev BLEU stalls. Figures and the
    # other tokenisations tried: docs/performance.md.
    "tatoeba-zh-en": {
        "text": {"source_tokenizer": {"kind": "char", "convert": "t2s"}, "target_tokenizer": {"kind": "word"},
                 "min_freq": 2, "max_vocab": 16000},
        **_CHINESE_ENGLISH_NETWORK,
    },
    # English → Chinese characters: the output keeps the script of the training text (both occur).
    "tatoeba-en-zh": {
        "text": {"source_tokenizer": {"kind": "word"}, "target_tokenizer": {"kind": "char"},
                 "min_freq": 2, "max_vocab": 16000},
        **_CHINESE_ENGLISH_NETWORK,
    },
    # The Transformer for a 30-CPU-minute budget on the Tatoeba pairs (docs/transformer.md has
    # the runs that chose it): one joint SentencePiece vocabulary, so source and target share
    # one embedding matrix, which is also the output layer.
    "tatoeba-transformer": {
        "text": {"source_tokenizer": {"kind": "sentencepiece"}, "target_tokenizer": {"kind": "sentencepiece"},
                 "vocab_size": 8000, "subword_model": "unigram", "joint_vocab": True},
        "model": {"architecture": "transformer", "units": 256, "num_layers": 2, "heads": 4, "ffn_dim": 1024,
                  "dropout": 0.0, "attention_dropout": 0.0, "pre_norm": True, "share_embeddings": True,
                  "tie_embeddings": True},
        "train": {"epochs": 100, "batch_size": 128, "batch_tokens": 2048, "learning_rate": 1e-3, "lr_schedule": "inverse-sqrt",
                  "warmup_steps": 400, "patience": 5, "label_smoothing": 0.1, "max_source_len": 80,
                  "max_target_len": 80, "length_step": 16, "select_on": "loss"},
    },
    # The paper's base model (Vaswani et al., 2017): 6 + 6 blocks of 512, 8 heads, feed-forward
    # 2,048, dropout 0.1, label smoothing 0.1, 4,000 warm-up steps, a joint vocabulary shared by
    # both sides and the output layer. Sized for GPUs (--precision mixed_bfloat16 or
    # mixed_float16 there); on a CPU it trains about ten times slower than tatoeba-transformer.
    # Pre-norm blocks (the paper's are post-norm, --no-pre-norm): they train stably without tuning.
    "transformer-base": {
        "text": {"source_tokenizer": {"kind": "sentencepiece"}, "target_tokenizer": {"kind": "sentencepiece"},
                 "vocab_size": 32000, "subword_model": "bpe", "joint_vocab": True},
        "model": {"architecture": "transformer", "units": 512, "num_layers": 6, "heads": 8, "ffn_dim": 2048,
                  "dropout": 0.1, "attention_dropout": 0.1, "pre_norm": True, "share_embeddings": True,
                  "tie_embeddings": True},
        "train": {"epochs": 100, "batch_size": 256, "batch_tokens": 8192, "learning_rate": 7e-4, "lr_schedule": "inverse-sqrt",
                  "warmup_steps": 4000, "patience": 10, "label_smoothing": 0.1, "max_source_len": 100,
                  "max_target_len": 100, "length_step": 8, "eval_every": 2000},
    },
}


def resolve(preset_name: str | None = None, settings: Settings | None = None, **overrides) -> Settings:
    """The settings of a run, made once where a run is asked for (the CLI, the Python API):
    `settings` (or the named preset's, or the defaults) with `overrides` applied, all checked.

    >>> resolve("dates", epochs=3).train.epochs
    3
    """
    if settings is not None and preset_name is not None:
        raise ConfigError("give a preset or settings, not both")
    base = settings if settings is not None else preset(preset_name)
    return base.updated(**overrides)


def preset(name: str | None) -> Settings:
    """The named preset's settings (defaults when `name` is None)."""
    if name is None:
        return Settings()
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}")
    return Settings.from_dict(PRESETS[name])
