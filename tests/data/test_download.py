"""Download: a zip made here, served by a file:// URL; the offline failure; unsafe archives refused."""

import time
import zipfile

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.data.download import DownloadError, archive_url, download_pair, unpack

LINES = [f"Sentence {i}.\tFrase {i}." for i in range(40)] + ["Sentence 0.\tFrase 0."]  # one duplicate


def _archive(path, members):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    return path


def test_zip_round_trip_through_a_file_url(tmp_path, capsys):
    site = tmp_path / "site"
    site.mkdir()
    _archive(site / "spa-eng.zip", {"spa.txt": "\n".join(LINES) + "\n", "_about.txt": "terms\n"})
    out = tmp_path / "data"
    code = main(["data", "download", "spa-eng", "--to", str(out), "--url", site.as_uri() + "/",
                 "--dev-size", "4", "--test-size", "3", "--held-out-size", "2"])
    assert code == 0
    printed = capsys.readouterr().out
    assert f"downloading {site.as_uri()}/spa-eng.zip" in printed
    assert "41 lines, 1 duplicate pairs dropped, 40 kept: dev 4, test 3, held-out 2, train 31" in printed
    assert (out / "_about.txt").read_text() == "terms\n"
    rows = [line for name in ("train", "dev", "test", "held-out")
            for line in (out / f"{name}.tsv").read_text(encoding="utf-8").splitlines()]
    assert sorted(rows) == sorted(set(LINES))
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_url_forms():
    assert archive_url("spa-eng") == "https://www.manythings.org/anki/spa-eng.zip"
    assert archive_url("fra-eng", "http://mirror.example/anki") == "http://mirror.example/anki/fra-eng.zip"
    assert archive_url("fra-eng", "file:///tmp/my.zip") == "file:///tmp/my.zip"
    with pytest.raises(DownloadError, match="unknown pair 'spanish'"):
        download_pair("spanish", "unused")


def test_offline_fails_fast_with_a_clear_message(tmp_path, capsys):
    started = time.perf_counter()
    code = main(["data", "download", "spa-eng", "--to", str(tmp_path / "d"), "--url", "http://127.0.0.1:9/"])
    assert code == 2 and time.perf_counter() - started < 10
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: cannot download http://127.0.0.1:9/spa-eng.zip")
    assert "seq2seq data split FILE" in err
    assert not list((tmp_path / "d").iterdir())  # the partial download was removed


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "spa/../../evil.txt", "C:/evil.txt",
                                  "..\\evil.txt"])
def test_path_traversal_refuses_the_whole_archive(tmp_path, name):
    archive = _archive(tmp_path / "bad.zip", {"spa.txt": "a\tb\n", name: "owned\n"})
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    with pytest.raises(DownloadError, match="outside the target directory"):
        unpack(archive, out)
    assert not list(out.iterdir()) and not (tmp_path / "deep" / "evil.txt").exists()


def test_symlink_members_and_broken_archives_are_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        link = zipfile.ZipInfo("spa.txt")
        link.external_attr = (0o120777 << 16)
        bundle.writestr(link, "/etc/passwd")
    with pytest.raises(DownloadError, match="symbolic link"):
        unpack(archive, tmp_path)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(DownloadError, match="not a readable zip"):
        unpack(tmp_path / "junk.zip", tmp_path)


def test_an_archive_without_the_pair_file_is_named(tmp_path, capsys):
    _archive(tmp_path / "fra-eng.zip", {"readme.txt": "hello\n"})
    code = main(["data", "download", "fra-eng", "--to", str(tmp_path / "out"),
                 "--url", (tmp_path / "fra-eng.zip").as_uri()])
    assert code == 2
    assert "the archive has no fra.txt (it holds readme.txt)" in capsys.readouterr().err
