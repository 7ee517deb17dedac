"""`seq2seq train`'s choice of network (`--architecture`) and the Transformer's own options.

Kept apart from train.py: the options, and the check that an option belongs to the architecture
being trained (an `--attention` given to a Transformer, or `--heads` to an RNN, would otherwise
be ignored without a word). Their names are also the keys of `train --config` files
(`run_config.SETTING_OPTIONS`).
"""

from __future__ import annotations

import argparse

from keras_seq2seq.commands.options import interval, whole_number
from keras_seq2seq.config import ARCHITECTURES, POSITION_KINDS, ModelSettings
from keras_seq2seq.errors import Seq2SeqError

# Each architecture's own options (option name = `ModelSettings` field); the others serve both.
TRANSFORMER_OPTIONS = ("heads", "ffn_dim", "decoder_layers", "attention_dropout", "pre_norm", "positions",
                       "share_embeddings")
RNN_OPTIONS = ("cell", "embedding_dim", "attention", "bidirectional", "bridge", "scaled_attention", "param_init")


def add_architecture_options(parser) -> None:
    """`--architecture` and the Transformer's options, in a group of their own."""
    group = parser.add_argument_group(
        "architecture (--units, --layers, --dropout, --tie-embeddings and --precision serve both)")
    group.add_argument("--architecture", choices=ARCHITECTURES,
                       help="rnn: the recurrent encoder-decoder; transformer: self-attention blocks "
                            "(--units is then the model size; docs/transformer.md)")
    group.add_argument("--heads", type=whole_number(1), help="transformer: attention heads (--units a multiple of it)")
    group.add_argument("--ffn-dim", type=whole_number(0), help="transformer: feed-forward inner size (0: 4 x --units)")
    group.add_argument("--decoder-layers", type=whole_number(0),
                       help="transformer: decoder blocks (0: as many as --layers)")
    group.add_argument("--attention-dropout", type=interval(0, 1, high_open=True),
                       help="transformer: dropout on attention weights")
    group.add_argument("--pre-norm", action=argparse.BooleanOptionalAction, default=None,
                       help="transformer: layer norm before each sublayer (--no-pre-norm: after, as the paper)")
    group.add_argument("--positions", choices=POSITION_KINDS, help="transformer: position encodings")
    group.add_argument("--share-embeddings", action=argparse.BooleanOptionalAction, default=None,
                       help="transformer: one embedding for source and target (needs --joint-vocab)")


def check_architecture_options(args, model: ModelSettings, preset_model: ModelSettings) -> None:
    """Refuse options of the other architecture that would change a setting: they would do
    nothing. (A file printed by `seq2seq config` lists every setting; those that keep the
    preset's value change nothing and pass.)"""
    foreign = RNN_OPTIONS if model.architecture == "transformer" else TRANSFORMER_OPTIONS
    given = [f"--{name.replace('_', '-')}" for name in foreign
             if getattr(args, name, None) is not None and getattr(model, name) != getattr(preset_model, name)]
    if given:
        other = "rnn" if model.architecture == "transformer" else "transformer"
        raise Seq2SeqError(f"{', '.join(given)} only apply to --architecture {other}; this run trains a "
                           f"{model.architecture} model")
