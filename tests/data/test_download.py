"""Download: a zip made here, served by a file:// URL; the offline failure; unsafe archives refused."""

import hashlib
import http.server
import os
import threading
import time
import urllib.request
import zipfile

import pytest

from keras_seq2seq.cli import main
from keras_seq2seq.data import download
from keras_seq2seq.data.download import DownloadError, archive_url, download_pair, fetch, unpack

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
    code = main(["data", "download", "spa-eng", "--to", str(tmp_path / "d"), "--url", "https://127.0.0.1:9/"])
    assert code == 2 and time.perf_counter() - started < 10
    err = capsys.readouterr().err
    assert err.startswith("seq2seq: error: cannot download https://127.0.0.1:9/spa-eng.zip")
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


# ------------------------------------------------------------------ what is fetched


@pytest.fixture
def site(tmp_path):
    """A plain-http server on loopback for `site.files`; `chunked` names send no Content-Length."""

    class Site:
        files: dict[str, bytes] = {}
        chunked: set[str] = set()
        redirects: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path in Site.redirects:
                self.send_response(302)
                self.send_header("Location", Site.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = Site.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            if self.path in Site.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(data), 1 << 16):
                    piece = data[start : start + (1 << 16)]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Site.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield Site
    server.shutdown()


def _zip_bytes(tmp_path, members):
    return _archive(tmp_path / "made.zip", members).read_bytes()


def test_plain_http_is_refused_unless_allowed(tmp_path, site, capsys):
    site.files["/spa-eng.zip"] = _zip_bytes(tmp_path, {"spa.txt": "\n".join(LINES) + "\n"})
    args = ["data", "download", "spa-eng", "--url", site.url + "/", "--dev-size", "4", "--test-size", "3",
            "--held-out-size", "2"]
    assert main([*args, "--to", str(tmp_path / "refused")]) == 2
    assert "plain http" in capsys.readouterr().err
    assert not (tmp_path / "refused" / "spa-eng.zip").exists()
    assert main([*args, "--to", str(tmp_path / "allowed"), "--allow-http"]) == 0
    assert (tmp_path / "allowed" / "train.tsv").is_file()
    for url in ("ftp://example.org/spa-eng.zip", "gopher://x/y.zip"):
        with pytest.raises(DownloadError, match="only https"):
            fetch(url, tmp_path / "x.zip")


def test_a_redirect_away_from_https_is_refused():
    handler = download._SecureRedirects(allow_http=False)
    request = urllib.request.Request("https://www.manythings.org/anki/spa-eng.zip")
    with pytest.raises(DownloadError, match="redirects to http://evil.example/spa-eng.zip, which is not https"):
        handler.redirect_request(request, None, 302, "Found", {}, "http://evil.example/spa-eng.zip")
    assert handler.redirect_request(request, None, 302, "Found", {}, "https://mirror.example/spa-eng.zip")
    assert download._SecureRedirects(allow_http=True).redirect_request(request, None, 302, "Found", {},
                                                                       "http://mirror.example/x.zip")


def test_a_redirect_to_plain_http_is_followed_only_with_allow_http(tmp_path, site):
    site.files["/real.zip"] = b"zip bytes"
    site.redirects["/moved.zip"] = site.url + "/real.zip"
    assert fetch(site.url + "/moved.zip", tmp_path / "a.zip", allow_http=True).size == 9


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "streamed"])
def test_an_archive_over_the_size_cap_is_refused_and_removed(tmp_path, site, chunked):
    site.files["/big.zip"] = os.urandom(300_000)
    if chunked:
        site.chunked.add("/big.zip")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DownloadError, match="more than the 100,000 bytes allowed|100,000 allowed"):
        fetch(site.url + "/big.zip", out / "big.zip", max_bytes=100_000, allow_http=True)
    assert not list(out.iterdir())
    assert fetch(site.url + "/big.zip", out / "big.zip", max_bytes=300_000, allow_http=True).size == 300_000


def test_the_digest_is_printed_and_a_pinned_one_is_checked(tmp_path, capsys):
    site = tmp_path / "site"
    site.mkdir()
    archive = _archive(site / "spa-eng.zip", {"spa.txt": "\n".join(LINES) + "\n"})
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    args = ["data", "download", "spa-eng", "--url", site.as_uri() + "/", "--dev-size", "4", "--test-size", "3",
            "--held-out-size", "2"]
    assert main([*args, "--to", str(tmp_path / "a")]) == 0
    assert f"sha256 {digest}  {tmp_path / 'a' / 'spa-eng.zip'} (no digest is published" in capsys.readouterr().out
    assert main([*args, "--to", str(tmp_path / "b"), "--sha256", digest.upper()]) == 0
    assert "matches --sha256" in capsys.readouterr().out
    assert main([*args, "--to", str(tmp_path / "c"), "--sha256", "0" * 64]) == 2
    assert f"its SHA-256 is {digest}" in capsys.readouterr().err
    assert not list((tmp_path / "c").iterdir())


def test_downloaded_and_unpacked_files_are_flushed_to_disk(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.path.realpath(f"/proc/self/fd/{fd}")),
                                                 real_fsync(fd)))
    site = tmp_path / "site"
    site.mkdir()
    _archive(site / "spa-eng.zip", {"spa.txt": "a\tb\n"})
    out = tmp_path / "out"
    download_pair("spa-eng", out, site.as_uri() + "/")
    assert synced.count(str(out.resolve())) >= 2  # after the archive's rename and after spa.txt's
