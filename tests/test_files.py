import os

import pytest

from keras_seq2seq import files


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    files.atomic_write_text(path, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        files.atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]  # no temp file left


def test_atomic_writes_make_files_readable_like_open_does(tmp_path):
    """mkstemp creates 0o600 files; a written model directory must be readable as usual."""
    target = tmp_path / "note.txt"
    files.atomic_write_text(target, "hello")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_written_file_and_its_directory_are_flushed_to_disk(tmp_path, monkeypatch):
    """A power cut after the rename must not leave a zero-length file: the file and then its
    directory are fsynced, in that order."""
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    files.atomic_write_text(tmp_path / "model.json", "{}")
    assert synced[-1] == str(tmp_path.resolve())  # the directory, after the file
    assert any(path.startswith(str(tmp_path.resolve() / ".model.json.")) for path in synced[:-1])
