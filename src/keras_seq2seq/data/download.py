"""Fetch a Tatoeba/Anki sentence-pair archive from manythings.org and unpack it safely.

This is the only code in the package that touches the network, and only when a user asks for it
(`seq2seq data download spa-eng --to DIR`). The archive `spa-eng.zip` holds `spa.txt`
(`english<TAB>spanish[<TAB>attribution]`) and `_about.txt` (the terms of use). Everything is
written to a temporary name and renamed into place, so an interrupted download leaves nothing
half-written behind. Beside the archive goes `data-source.json` (where it came from, its licence
and the attribution it asks for), which `seq2seq train` copies into the model card of every model
trained on these files. The zip is checked before anything is unpacked: a member whose name would
land outside the target directory (an absolute path, `..`, a drive letter) or a symbolic link
refuses the whole archive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable

from keras_seq2seq.files import FILE_MODE, atomic_write_text
from keras_seq2seq.errors import Seq2SeqError

BASE_URL = "https://www.manythings.org/anki/"  # the public home of the Tatoeba/Anki pair files
USER_AGENT = "keras-seq2seq (+https://www.manythings.org/anki/ downloader)"  # the site refuses blank agents
TIMEOUT = 30  # seconds to wait for the server to answer or send more bytes
CHUNK = 1 << 16  # bytes read at a time
MAX_UNPACKED = 1 << 30  # refuse archives that would unpack to more than 1 GiB
SOURCE_FILE = "data-source.json"  # what `download_pair` records beside the files
LICENCE = "CC BY 2.0 FR (https://creativecommons.org/licenses/by/2.0/fr/, https://tatoeba.org/eng/terms_of_use)"
ATTRIBUTION = "www.manythings.org/anki and tatoeba.org"
_PAIR = re.compile(r"^([a-z]{3})-eng$")  # manythings names: three-letter code, then -eng


class DownloadError(Seq2SeqError):
    """The archive could not be fetched or is not a safe, readable pair archive."""


def pair_language(pair: str) -> str:
    """The three-letter language of a manythings pair name: "spa-eng" → "spa"."""
    match = _PAIR.match(pair)
    if not match:
        raise DownloadError(f"unknown pair {pair!r}: expected a manythings.org name such as spa-eng, "
                            "fra-eng, deu-eng or cmn-eng (see https://www.manythings.org/anki/)")
    return match.group(1)


def archive_url(pair: str, url: str | None = None) -> str:
    """Where to fetch `pair`: `url` itself when it names a .zip, else `url` (or the site) + pair.zip."""
    base = url or BASE_URL
    if base.lower().endswith(".zip"):
        return base
    return base.rstrip("/") + f"/{pair}.zip"


def fetch(url: str, destination: Path, progress: Callable[[int, int | None], None] | None = None,
          timeout: float = TIMEOUT) -> int:
    """Download `url` to `destination` atomically; returns the number of bytes.

    `progress(done, total)` is called as bytes arrive (`total` is None when the server does not
    say). Network failures become a DownloadError naming the URL and the way round it.
    """
    destination = Path(destination)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                done = 0
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if total is not None and done != total:
            raise DownloadError(f"{url}: the download stopped after {done:,} of {total:,} bytes; try again")
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, destination)
        return done
    except urllib.error.HTTPError as error:
        _remove(tmp)
        raise DownloadError(
            f"cannot download {url}: the server answered HTTP {error.code} {error.reason}. Check the "
            f"pair name, or fetch the archive another way and run `seq2seq data split FILE --to DIR`"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        _remove(tmp)
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise DownloadError(
            f"cannot download {url} ({reason}). Are you offline? Fetch the archive another way, "
            f"unzip it, and split the pair file with `seq2seq data split FILE --to DIR`"
        ) from None
    except BaseException:
        _remove(tmp)
        raise


def unpack(archive: Path, out_dir: Path) -> list[Path]:
    """Unpack every file of `archive` into `out_dir` after checking all member names are safe."""
    archive, out_dir = Path(archive), Path(out_dir)
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            for member in members:
                _check_member(archive, member)
            if sum(member.file_size for member in members) > MAX_UNPACKED:
                raise DownloadError(f"{archive}: would unpack to more than {MAX_UNPACKED >> 20} MiB; refused")
            written = []
            for member in members:
                if member.is_dir():
                    continue
                target = out_dir.joinpath(*PurePosixPath(member.filename).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
                try:
                    with os.fdopen(fd, "wb") as out, bundle.open(member) as source:
                        shutil.copyfileobj(source, out, CHUNK)
                    os.chmod(tmp, FILE_MODE)
                    os.replace(tmp, target)
                except BaseException:
                    _remove(tmp)
                    raise
                written.append(target)
            return written
    except zipfile.BadZipFile as error:
        raise DownloadError(f"{archive}: not a readable zip archive ({error})") from None
    except OSError as error:
        raise DownloadError(f"{archive}: cannot unpack into {out_dir} ({error.strerror or error})") from None


def _check_member(archive: Path, member: zipfile.ZipInfo) -> None:
    """Refuse names that would escape the directory, and symbolic links (which could later)."""
    name = member.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if (not name or name.startswith("/") or re.match(r"^[A-Za-z]:", name)
            or any(part == ".." for part in parts)):
        raise DownloadError(f"{archive}: member {member.filename!r} would be written outside the "
                            "target directory; refused (the archive is unsafe)")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise DownloadError(f"{archive}: member {member.filename!r} is a symbolic link; refused")


def find_pair_file(files: list[Path], language: str) -> Path:
    """The unpacked `<language>.txt` (manythings puts it at the top, some copies in a folder)."""
    matches = [path for path in files if path.name == f"{language}.txt"]
    if not matches:
        names = ", ".join(sorted(path.name for path in files)) or "nothing"
        raise DownloadError(f"the archive has no {language}.txt (it holds {names})")
    return min(matches, key=lambda path: len(path.parts))


def download_pair(pair: str, out_dir: str | os.PathLike, url: str | None = None,
                  progress: Callable[[int, int | None], None] | None = None,
                  timeout: float = TIMEOUT) -> Path:
    """Fetch and unpack `pair` (e.g. "spa-eng") into `out_dir`; returns the pair file's path."""
    language = pair_language(pair)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"{out_dir}: cannot create the directory ({error.strerror})") from None
    archive = out_dir / f"{pair}.zip"
    fetch(archive_url(pair, url), archive, progress, timeout)
    pair_file = find_pair_file(unpack(archive, out_dir), language)
    source = {"pair": pair, "url": archive_url(pair, url), "licence": LICENCE, "attribution": ATTRIBUTION}
    atomic_write_text(out_dir / SOURCE_FILE, json.dumps(source, indent=2) + "\n")
    return pair_file


def licence_note(directory: str | os.PathLike) -> str | None:
    """The licence of the Tatoeba files in `directory`, as a model card quotes it: from the
    `data-source.json` that `download_pair` wrote, or from manythings.org's own `_about.txt`;
    None for files of unknown origin."""
    directory = Path(directory)
    try:
        source = json.loads((directory / SOURCE_FILE).read_text(encoding="utf-8"))
        return (f"{source['licence']}; attribution: \"{source['attribution']}\" (downloaded from "
                f"{source['url']} by `seq2seq data download`)")
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        about = (directory / "_about.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if "tatoeba" in about.lower():
        return f"{LICENCE}; attribution: \"{ATTRIBUTION}\" (Tatoeba sentences, per the _about.txt beside the data)"
    return None


class ProgressBar:
    """A one-line byte counter on stderr, redrawn in place on a terminal, printed once elsewhere."""

    def __init__(self, label: str, stream=None, width: int = 30):
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.interactive = getattr(self.stream, "isatty", lambda: False)()
        self.last = (0, None)

    def __call__(self, done: int, total: int | None) -> None:
        self.last = (done, total)
        if self.interactive:
            self.stream.write("\r" + self._line(done, total))
            self.stream.flush()

    def close(self) -> None:
        self.stream.write(("\r" if self.interactive else "") + self._line(*self.last) + "\n")
        self.stream.flush()

    def _line(self, done: int, total: int | None) -> str:
        megabytes = f"{done / 1e6:.1f} MB"
        if not total:
            return f"{self.label} {megabytes}"
        filled = round(self.width * done / total)
        return f"{self.label} [{'=' * filled}{'.' * (self.width - filled)}] {megabytes} of {total / 1e6:.1f} MB"


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
