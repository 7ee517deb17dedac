"""What the benchmarks share: where the data is, reading splits, medians and ratios, the last
line, one side of a comparison run in a fresh process, and `seq2seq serve` on loopback.

Only the standard library is imported here at the top: bench/speed_peer.py imports this module
inside OpenNMT-py's venv, where keras_seq2seq is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Tatoeba pairs as `seq2seq data download PAIR --to ../shared/data/PAIR` writes them (English
# first), beside the repository; elsewhere, give --data-dir.
DATA_DIR = HERE.parent.parent / "shared" / "data"


# ----------------------------------------------------------------------------- the process
def as_the_command_does() -> None:
    """For a benchmark that uses the library in its own process: what the `seq2seq` command does
    for its process before anything imports Keras (importing keras_seq2seq does neither): JAX
    unless KERAS_BACKEND says otherwise, and malloc keeping freed memory (keras_seq2seq/allocator.py)."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from keras_seq2seq.allocator import keep_freed_memory

    keep_freed_memory()


# ----------------------------------------------------------------------------- arguments, data
def argument_parser(doc: str) -> argparse.ArgumentParser:
    """A script's parser, described by the first paragraph of its docstring."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def add_pair_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder of <pair>/{train,dev,test}.tsv")
    parser.add_argument("--pair", default="spa-eng", help="language pair folder, e.g. spa-eng, cmn-eng")


def side_arguments(doc: str) -> argparse.ArgumentParser:
    """The arguments bench/speed.py gives both of its sides (bench/speed_ours.py, bench/speed_peer.py)."""
    parser = argument_parser(doc)
    parser.add_argument("--data", type=Path, help="folder with train.tsv and test.tsv (source<TAB>target)")
    parser.add_argument("--json", type=Path, required=True, help="write the figures here")
    parser.add_argument("--attention", action="store_true", help="brnn encoder + Luong general + input feeding")
    parser.add_argument("--transformer", action="store_true",
                        help="a Transformer of --units model size (bench/speed.py's tfm configuration)")
    for name, default in (("steps", 300), ("batch-size", 64), ("batch-tokens", 0), ("vocab", 8000), ("embedding", 256),
                          ("units", 512), ("max-length", 50), ("sentences", 1000), ("beam-size", 5), ("seed", 1),
                          ("layers", 3), ("heads", 4), ("ffn-dim", 1024), ("warmup-steps", 100)):
        parser.add_argument(f"--{name}", type=int, default=default)
    return parser


def pair_dir(name: str, data_dir: Path, pair: str, splits=("train", "test")) -> Path:
    """`data_dir/pair`, or exit 2 naming the split that is missing."""
    folder = Path(data_dir) / pair
    missing = [f"{split}.tsv" for split in splits if not (folder / f"{split}.tsv").is_file()]
    if missing:
        print(f"{name}: {folder} has no {', '.join(missing)}; give --data-dir (a folder of <pair>/ splits) "
              "and --pair", file=sys.stderr)
        raise SystemExit(2)
    return folder


def read_columns(path: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """The first two tab-separated columns of every line that has two (the first `limit`)."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            columns = line.rstrip("\n").split("\t")
            if len(columns) >= 2:
                rows.append((columns[0], columns[1]))
                if limit and len(rows) >= limit:
                    break
    return rows


def tatoeba_pairs(path: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """`(source, English)` pairs of a Tatoeba split, whose first column is the English."""
    return [(other.strip(), english.strip()) for english, other in read_columns(path, limit)]


# ----------------------------------------------------------------------------- figures
def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return ours / theirs if ours is not None and theirs else None


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))]


def timed(function, *args, **kwargs):
    """`(seconds, result)` of one call."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def busy_warning(name: str) -> float:
    """The 1-minute load average, with a warning when other work shares the cores."""
    load = os.getloadavg()[0]
    if load > 1.0:
        print(f"{name}: warning: load average {load:.1f}; other work shares the cores, so figures will be "
              "low and noisy", flush=True)
    return load


def last_line(name: str, fields: dict, suffix: str = "") -> str:
    """Print (and return) the machine-readable last line, `name: key=value ...`."""
    line = f"{name}: " + " ".join(f"{key}={value}" for key, value in fields.items()) + suffix
    print(line, flush=True)
    return line


def print_table(header: list[str], rows: list[list]) -> None:
    """A Markdown table."""
    print("\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def write_json(path: Path, data) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")


def run_side(command: list[str], label: str, quiet: bool = True) -> dict | None:
    """Run one side of a comparison in a fresh process, which writes its figures to the file
    given as `--json`: those figures (with `wall_seconds`), or None if it failed. `quiet` keeps
    its output in a log and shows the tail on failure; otherwise it goes to the terminal."""
    with tempfile.TemporaryDirectory() as tmp:
        out, log = Path(tmp) / "figures.json", Path(tmp) / "log.txt"
        env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}
        started = time.monotonic()
        with open(log, "w") as handle:
            code = subprocess.run([*command, "--json", str(out)], env=env, stdout=handle if quiet else None,
                                  stderr=subprocess.STDOUT if quiet else None).returncode
        if code != 0 or not out.is_file():
            tail = "".join(log.read_text(errors="replace").splitlines(True)[-12:])
            print(f"{label} failed (exit {code})" + (f":\n{tail}" if quiet else "; see its output above"),
                  file=sys.stderr, flush=True)
            return None
        return {**json.loads(out.read_text()), "wall_seconds": round(time.monotonic() - started, 1)}


# ----------------------------------------------------------------------------- serving
class Server:
    """`seq2seq serve` in a subprocess on a free loopback port, stopped with SIGTERM on exit."""

    def __init__(self, model: Path, max_batch: int, delay_ms: float | None, extra: tuple[str, ...] = ()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "keras_seq2seq.cli", "serve", "--model", str(model),
                        "--port", str(self.port), "--max-batch", str(max_batch), "--log-level", "warning",
                        *(["--no-batching"] if delay_ms is None else ["--max-batch-delay-ms", str(delay_ms)]),
                        *extra]

    def __enter__(self) -> "Server":
        import httpx

        self.process = subprocess.Popen(self.command)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"the server exited with status {self.process.returncode}")
            try:
                httpx.get(f"{self.url}/v1/health", timeout=2).raise_for_status()
                return self
            except httpx.HTTPError:
                time.sleep(0.3)
        self.process.kill()
        sys.exit("the server did not start within 300 s")

    def stats(self) -> dict:
        import httpx

        return httpx.get(f"{self.url}/v1/health", timeout=30).json()["batcher"]

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def train_dates_model(out: Path, pairs: int = 3000, **overrides) -> Path:
    """A small model of the built-in dates task, trained in seconds: it decodes like any model."""
    from keras_seq2seq import Translator, task_splits

    splits = task_splits("dates", train=pairs, dev=50, test=10, seed=0)
    Translator.train(splits["train"], dev=splits["dev"], preset="dates", out_dir=out, verbose=0,
                     info={"data": {"task": "dates"}}, **overrides)
    return out


def load_sentences(model: Path, data: Path | None, source_lang: str | None) -> list[str]:
    """The source side of `data`, or of the test split of the built-in task `model` learnt."""
    from keras_seq2seq import read_corpus, task_splits
    from keras_seq2seq.artifacts import read_config

    if data is not None:
        return [pair.source for pair in read_corpus(data, source_lang=source_lang)]
    task = read_config(model).get("data", {}).get("task")
    if task is None:
        sys.exit(f"{model} was not trained on a built-in task; give --data FILE")
    return [pair.source for pair in task_splits(task, train=100, dev=10, test=2000)["test"]]


def decode_shapes(model: Path, sentences: list[str]) -> dict[int, list[str]]:
    """One example sentence per padded source length: the lengths the server will compile for."""
    from keras_seq2seq import Translator
    from keras_seq2seq.data.batching import padded_length

    translator = Translator.load(model)
    step = translator.settings.train.length_step
    examples: dict[int, list[str]] = {}
    for sentence in sentences:
        examples.setdefault(padded_length(len(translator.encode_source(sentence)), step), [sentence])
    return examples


def warm_up(url: str, shapes: dict[int, list[str]], reachable: int, max_batch: int, beam_size: int = 1) -> None:
    """Compile every (rows, length) program a run of up to `reachable` sentences a batch can reach.

    Decode batches are padded to a few row counts (powers of 2 or 4, by the server's and the
    translator's rules); sending 1, 2, 3, 4, 5, 8, 9, 16, 17 … sentences (2^k and 2^k + 1) reaches
    every one of them without depending on which rule is in force."""
    import httpx

    counts = sorted({1} | {n for k in range(reachable.bit_length() + 1) for n in (2 ** k, 2 ** k + 1)
                           if n <= min(reachable, max_batch)})
    started = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        for count in counts:
            for examples in shapes.values():
                for start in range(0, count, 64):  # the server takes at most 64 sentences a request
                    text = examples * min(64, count - start)
                    client.post(f"{url}/v1/translate", json={"text": text, "beam_size": beam_size}).raise_for_status()
    print(f"  warm-up: batches of {counts} sentences x {len(shapes)} source lengths in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)


async def read_reply(reader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 response: uvicorn sends a
    Content-Length, except on the 400 for an unparsable request, whose body ends with the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" in headers:
        return int(lines[0].split()[1]), headers, await reader.readexactly(int(headers["content-length"]))
    return int(lines[0].split()[1]), headers, await reader.read()
