"""`seq2seq chat --model DIR`: talk to a dialogue model, one reply per line you type.

    seq2seq chat --model runs/chat --sample --temperature 0.8 --top-p 0.9
    printf 'hi\nhow are you?\n' | seq2seq chat --model runs/chat      # piped: one reply line each
    seq2seq chat --model runs/dd --beam-size 10 --length-penalty 1.0 --mmi-model runs/dd-reverse

The model's input is the conversation so far, cut to the last `--context-turns` turns and joined
exactly as `seq2seq prepare-dialogue` joined them for training (by default, the number the
model was trained with). The model's own replies count as turns. `/reset` forgets the
conversation, `/quit` or end of input stops. Replies come from greedy search, beam search
(`--beam-size`) or sampling (`--sample`); `--no-repeat-ngram N` stops a reply from repeating any
of its own N-grams, and `--mmi-model` reranks the beam's candidates against generic replies.
"""

from __future__ import annotations

import sys

from keras_seq2seq.commands.options import (add_mmi_options, add_sampling_options, mmi_reranker, positive_int,
                                            search_options)
from keras_seq2seq.data.dialogue import CONTEXT_TURNS, recorded_context_turns
from keras_seq2seq.errors import Seq2SeqError

HELP = "/reset forgets the conversation, /quit (or Ctrl-D) ends, /help shows this"


def register(commands, command) -> None:
    parser = command(commands, "chat", run, "talk with a dialogue model, one reply per input line")
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory")
    parser.add_argument("--context-turns", type=positive_int,
                        help=f"previous turns fed to the model, as in prepare-dialogue (default: the "
                             f"number the model was trained with, else {CONTEXT_TURNS})")
    parser.add_argument("--no-repeat-ngram", type=int, default=3, metavar="N",
                        help="a reply never repeats one of its own N-grams (0: off)")
    parser.add_argument("--beam-size", type=positive_int, default=1,
                        help="beam search with this many hypotheses (1: greedy); not with --sample")
    parser.add_argument("--length-penalty", type=float, default=0.0, metavar="ALPHA",
                        help="GNMT length penalty for beam search")
    add_sampling_options(parser, "sampling (livelier replies than greedy or beam search)", temperature=0.8,
                         top_p=0.9, seed_help="the same seed and inputs give the same replies")
    add_mmi_options(parser)


def run(args) -> int:
    from keras_seq2seq.data.dialogue import clean_turn, context_source
    from keras_seq2seq.translator import Translator

    options = search_options(args, "reply")
    reranker = mmi_reranker(args, batch_size=max(args.beam_size, args.draws))
    translator = Translator.load(args.model)
    if args.context_turns is None:
        args.context_turns = recorded_context_turns(translator.info) or CONTEXT_TURNS
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"chatting with {args.model} (context: last {args.context_turns} turns); {HELP}",
              file=sys.stderr)
    history: list[str] = []
    turn = 0
    while True:
        if interactive:
            print("> ", end="", flush=True)
        try:
            line = sys.stdin.readline()
        except UnicodeDecodeError as error:
            raise Seq2SeqError(f"stdin: not valid UTF-8 ({error.reason})") from None
        except KeyboardInterrupt:
            line = ""
        if not line:  # end of input
            if interactive:
                print()
            return 0
        text = clean_turn(line)
        if text == "/quit":
            return 0
        if text == "/reset":
            history.clear()
            print("(conversation forgotten)", file=sys.stderr)
            continue
        if text == "/help":
            print(HELP, file=sys.stderr)
            continue
        if not text:
            continue
        history.append(text)
        source = context_source(history, args.context_turns)
        # A different seed per turn, so sampled replies vary, yet a rerun repeats them.
        reply = translator.reply([source], options=options.replace(seed=options.seed + turn), reranker=reranker,
                                draws=args.draws)[0]
        turn += 1
        print(reply, flush=True)
        history.append(reply)
        del history[: -args.context_turns]  # only the turns the next input can use
