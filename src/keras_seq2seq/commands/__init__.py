"""Sub-commands of `seq2seq` that live in their own modules (serve, chat, data, …).

Each module named in `MODULES` has `register(commands, command)`: it adds its parser with
`command(commands, name, run, help)` (the helper `cli._command`) and imports its heavy
dependencies only inside its `run` function, so `seq2seq --help` stays fast.
"""

MODULES: list[str] = ["translate", "data", "serve", "prepare_dialogue", "chat", "shortlist", "export"]
