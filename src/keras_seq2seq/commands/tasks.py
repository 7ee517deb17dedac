"""`seq2seq tasks`: list the built-in generated tasks with a few examples each."""

from __future__ import annotations


def register(commands, command) -> None:
    command(commands, "tasks", run, "list the built-in tasks with examples")


def run(args) -> int:
    from keras_seq2seq.data.tasks import TASKS

    for name, task in TASKS.items():
        print(f"{name}: {task.description}")
        for source, target in task.examples[:3]:
            print(f"    {source!r} → {target!r}")
    return 0
