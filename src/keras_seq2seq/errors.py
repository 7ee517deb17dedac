"""The error types users see.

Everything a user can get wrong (a corpus line, a CLI flag, a model directory, a server request)
raises one of these; the CLI and the server turn them into a message or a status code. Any other
exception escaping the package is a bug.
"""

from __future__ import annotations

import os


class Seq2SeqError(Exception):
    """Base class: an expected, user-facing failure with a readable message."""


class CorpusError(Seq2SeqError):
    """A corpus file cannot be read as asked; names the file and, when known, the line."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None):
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(where + message)


class VocabularyError(Seq2SeqError):
    """A vocabulary file is missing, malformed or inconsistent."""


class ModelFileError(Seq2SeqError):
    """A saved model directory is missing, corrupt, unsafe or from an incompatible version."""


class ConfigError(Seq2SeqError):
    """Settings that cannot work together, or an unknown preset/task/option value."""
