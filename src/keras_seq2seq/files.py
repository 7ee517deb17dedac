"""Generic file helpers: atomic writes that survive a crash or power cut, and UTF-8 reads with
errors that name the file.

Every file the toolkit writes for keeps (models, vocabularies, checkpoints, splits, outputs) goes
through `atomic_write_bytes`: the data lands in a temporary file in the same directory, is flushed
to disk, and is renamed over the target, and then the directory itself is flushed so the rename
is durable. A crash at any moment leaves either the old file or the new one, never a torn or
zero-length file. Nothing here knows about models; it imports nothing of ours but the errors.

Files of a model directory are read through `read_file_bytes` and `read_regular_text` (or checked
with `check_regular_file`, for files another library opens): a name with a NUL byte, a symbolic link that leads out of the directory,
and anything but a regular file (a FIFO, which would block the reader forever; a device; a
directory) are refused with the caller's error type, before a byte is read.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket"}


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
    """UTF-8 text of `path` (a BOM is dropped); anything wrong raises `error` naming the path.

    For inputs a user names: a pipe (`--input <(...)`) is fine here. Files of a model directory
    go through `read_regular_text`."""
    path = Path(path)
    try:
        return _decode(path, path.read_bytes(), error)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as bad:
        raise error(f"{path}: cannot read ({bad.strerror})") from None


def read_regular_text(path: Path, error: type[Exception], what: str = "file", within: Path | None = None,
                      limit: int | None = None) -> str:
    """As `read_text_file`, for a regular file only (see `read_file_bytes`)."""
    return _decode(Path(path), read_file_bytes(path, error, what, within, limit), error)


def _decode(path: Path, data: bytes, error: type[Exception]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise error(f"{path}: not valid UTF-8 ({bad.reason} at byte {bad.start})") from None


def read_file_bytes(path: Path, error: type[Exception], what: str = "file", within: Path | None = None,
                    limit: int | None = None) -> bytes:
    """The bytes of `path`, a regular file (inside `within`, if given, after following links) of at
    most `limit` bytes; anything else raises `error` naming the path and what is wrong."""
    path = Path(path)
    fd = _open_regular(path, error, what, within)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if limit is not None and size > limit:
            raise error(f"{path}: {size:,} bytes, more than the {limit:,} a {what} may have; refused")
        try:
            return handle.read()
        except OSError as bad:
            raise error(f"{path}: cannot read ({bad.strerror})") from None


def check_regular_file(path: Path, error: type[Exception], what: str = "file", within: Path | None = None) -> None:
    """Raise `error` unless `path` is a regular file (inside `within`): for files that another
    library (zipfile, h5py) opens itself."""
    os.close(_open_regular(Path(path), error, what, within))


def _open_regular(path: Path, error: type[Exception], what: str, within: Path | None) -> int:
    """A read-only descriptor of `path`, checked to be a regular file (and inside `within`)."""
    if "\0" in str(path):
        raise error(f"{str(path)!r}: a file name cannot hold a NUL byte; refused")
    if within is not None:
        real, root = path.resolve(), Path(within).resolve()
        if root != real.parent and root not in real.parents:
            raise error(f"{path}: a link to {real}, outside {within}; files of {within} must be inside it")
    try:
        # Non-blocking: opening a FIFO to read would otherwise wait for a writer, forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as bad:
        raise error(f"{path}: cannot read ({bad.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise error(f"{path}: {kind}, not a regular file; refused")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return fd


def remove_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
