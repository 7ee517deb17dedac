"""The sampling options shared by `seq2seq translate` and `seq2seq chat`, and their checks."""

from __future__ import annotations

from keras_seq2seq.errors import Seq2SeqError


def add_sampling_options(parser, title: str, temperature: float, top_p: float, seed_help: str) -> None:
    """`--sample --temperature --top-k --top-p --seed` in a group `title`, with these defaults."""
    group = parser.add_argument_group(title)
    group.add_argument("--sample", action="store_true", help="draw each token from the model's distribution")
    group.add_argument("--temperature", type=float, default=temperature, help="below 1 sharpens, above 1 flattens")
    group.add_argument("--top-k", type=int, default=0, help="draw from the K most likely tokens only (0: all)")
    group.add_argument("--top-p", type=float, default=top_p,
                       help="draw from the smallest set holding this much probability")
    group.add_argument("--seed", type=int, default=0, help=seed_help)


def sampling_from_args(args, one: str) -> dict | None:
    """The search's `sampling` settings, or None without `--sample`; `one` names what a draw
    gives ("output per input", "reply") in the message for a beam size other than 1."""
    if not args.sample:
        return None
    if args.beam_size != 1:
        raise Seq2SeqError(f"--sample draws one {one}; leave --beam-size at 1")
    if args.temperature <= 0 or args.top_k < 0 or not 0 < args.top_p <= 1:
        raise Seq2SeqError("--temperature must be > 0, --top-k >= 0 and --top-p in (0, 1]")
    return {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}
