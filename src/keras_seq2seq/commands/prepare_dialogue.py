"""`seq2seq prepare-dialogue CONVERSATIONS... --out pairs.tsv`: conversations → training pairs.

    seq2seq prepare-dialogue chats.txt --out pairs.tsv --context-turns 2
    seq2seq train --data pairs.tsv --out runs/chat
    seq2seq prepare-dialogue ../shared/data/dailydialog/train.txt --out dd-train.tsv --context-turns 3

Conversation files hold one utterance per line and a blank line between conversations, or, in
DailyDialog's form, one conversation per line with each turn ended by `__eou__` (`--format`;
told apart by default). Each reply becomes `context<TAB>reply`, the context being the previous
turns joined by " ¶ " (see `keras_seq2seq.data.dialogue`); `seq2seq chat` builds its input the
same way.
"""

from __future__ import annotations

from keras_seq2seq.commands.options import positive_int
from keras_seq2seq.data.dialogue import CONTEXT_TURNS, FORMATS


def register(commands, command) -> None:
    parser = command(commands, "prepare-dialogue", run,
                     "turn conversation files into (context, response) training pairs")
    parser.add_argument("conversations", nargs="+", metavar="CONVERSATIONS",
                        help="text files: one utterance per line, a blank line between conversations")
    parser.add_argument("--out", required=True, metavar="FILE", help="TSV file to write: context<TAB>response")
    parser.add_argument("--context-turns", type=positive_int, default=CONTEXT_TURNS,
                        help="previous turns joined into each context (use the same with `seq2seq chat`)")
    parser.add_argument("--format", choices=FORMATS, default="auto",
                        help="lines: one utterance per line, a blank line between conversations; "
                             "dailydialog: one conversation per line, turns ended by __eou__; "
                             "auto: told apart by __eou__ in the first line")


def run(args) -> int:
    from keras_seq2seq.data.dialogue import write_dialogue_pairs

    counts = write_dialogue_pairs(args.conversations, args.out, args.context_turns, args.format)
    print(f"{args.out}: {counts['pairs']:,} (context, response) pairs from {counts['conversations']:,} "
          f"conversations, {counts['turns']:,} turns; context = last {args.context_turns} turn(s)")
    print(f"train with: seq2seq train --data {args.out} --out runs/chat  (the context is column 0, read as "
          f"the source)")
    return 0
