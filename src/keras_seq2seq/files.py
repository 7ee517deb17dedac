"""Generic file helpers: atomic writes that survive a crash or power cut, and UTF-8 reads with
errors that name the file.

Every file the toolkit writes for keeps (models, vocabularies, checkpoints, splits, outputs) goes
through `atomic_write_bytes`: the data lands in a temporary file in the same directory, is flushed
to disk, and is renamed over the target, and then the directory itself is flushed so the rename
is durable. A crash at any moment leaves either the old file or the new one, never a torn or
zero-length file. Nothing here knows about models; it imports nothing of ours but the errors.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _file_mode() -> int:
    """What `open()` would give a new file: 0o666 less the umask (mkstemp makes files 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8) via a temporary file and `os.replace`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a flushed temporary file, `os.replace`, and a flushed directory."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        publish(tmp, path)
    except BaseException:
        remove_quietly(tmp)
        raise


def publish(tmp: str | Path, path: Path) -> None:
    """Give the finished temporary file `tmp` its final name `path`, durably: the usual file mode,
    its bytes on disk, the rename, then the directory on disk (so the rename survives a power cut)."""
    os.chmod(tmp, FILE_MODE)
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


def fsync_file(path: str | Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(directory: str | Path) -> None:
    """Flush a directory's entries (new names, renames) to disk; a no-op where directories
    cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(directory: Path) -> None:
    """Flush every file directly in `directory`, then the directory itself."""
    for path in Path(directory).iterdir():
        if path.is_file():
            fsync_file(path)
    fsync_dir(directory)


def read_text_file(path: Path, error: type[Exception], what: str = "file") -> str:
    """UTF-8 text of `path` (a BOM is dropped); anything wrong raises `error` naming the path."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except UnicodeDecodeError as bad:
        raise error(f"{path}: not valid UTF-8 ({bad.reason} at byte {bad.start})") from None
    except OSError as bad:
        raise error(f"{path}: cannot read ({bad.strerror})") from None


def remove_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
