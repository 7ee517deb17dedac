"""The sub-commands of `seq2seq`, one module each, in the order `seq2seq --help` lists them.

Each module has `register(commands, command)`: it adds its parser with
`command(commands, name, run, help)` (`cli.add_command`) and imports its heavy dependencies only
inside its `run` function, so `seq2seq --help` stays fast. Options several commands share are
built in `options.py`.
"""

MODULES: list[str] = ["train", "config", "evaluate", "demo", "tasks", "translate", "data", "serve", "prepare_dialogue",
                      "chat", "shortlist", "export"]
