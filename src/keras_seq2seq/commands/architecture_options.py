"""`seq2seq train`'s choice of network (`--architecture`) and the Transformer's own options.

Kept out of cli.py: the options, their settings names, and the check that an option given on
the command line belongs to the architecture being trained (an `--attention` given to a
Transformer, or `--heads` to an RNN, would otherwise be ignored without a word).
"""

from __future__ import annotations

import argparse

from keras_seq2seq.config import ARCHITECTURES, POSITION_KINDS
from keras_seq2seq.errors import Seq2SeqError

# Command-line option -> the `ModelSettings` field it sets.
TRANSFORMER_OPTIONS = {"--heads": "heads", "--ffn-dim": "ffn_dim", "--decoder-layers": "decoder_layers",
                       "--attention-dropout": "attention_dropout", "--pre-norm": "pre_norm",
                       "--positions": "positions", "--share-embeddings": "share_embeddings"}
RNN_OPTIONS = {"--cell": "cell", "--embedding-dim": "embedding_dim", "--attention": "attention",
               "--bidirectional": "bidirectional", "--bridge": "bridge",
               "--scaled-attention": "scaled_attention", "--param-init": "param_init"}


def add_architecture_options(parser) -> None:
    """`--architecture` and the Transformer's options, in a group of their own."""
    group = parser.add_argument_group(
        "architecture (--units, --layers, --dropout, --tie-embeddings and --precision serve both)")
    group.add_argument("--architecture", choices=ARCHITECTURES,
                       help="rnn: the recurrent encoder-decoder (default); transformer: self-attention "
                            "blocks (--units is then the model size; docs/transformer.md)")
    group.add_argument("--heads", type=int, help="transformer: attention heads (--units a multiple of it)")
    group.add_argument("--ffn-dim", type=int, help="transformer: feed-forward inner size (0: 4 x --units)")
    group.add_argument("--decoder-layers", type=int, help="transformer: decoder blocks (0: as many as --layers)")
    group.add_argument("--attention-dropout", type=float, help="transformer: dropout on attention weights")
    group.add_argument("--pre-norm", action=argparse.BooleanOptionalAction, default=None,
                       help="transformer: layer norm before each sublayer (--no-pre-norm: after, as the paper)")
    group.add_argument("--positions", choices=POSITION_KINDS, help="transformer: position encodings")
    group.add_argument("--share-embeddings", action=argparse.BooleanOptionalAction, default=None,
                       help="transformer: one embedding for source and target (needs --joint-vocab)")


def architecture_overrides(args) -> dict:
    """The settings these options set (None: keep the preset's)."""
    return {"architecture": args.architecture,
            **{field: getattr(args, field) for field in TRANSFORMER_OPTIONS.values()}}


def check_architecture_options(args, architecture: str) -> None:
    """Refuse options of the other architecture: they would silently do nothing."""
    foreign = RNN_OPTIONS if architecture == "transformer" else TRANSFORMER_OPTIONS
    given = [option for option, field in foreign.items() if getattr(args, field, None) is not None]
    if given:
        other = "rnn" if architecture == "transformer" else "transformer"
        raise Seq2SeqError(f"{', '.join(given)} only apply to --architecture {other}; this run trains a "
                           f"{architecture} model")
