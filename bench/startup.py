"""How long a user waits for the first translation: `seq2seq translate` from process start.

    .venv/bin/python bench/startup.py                  # a quick dates model, and runs/quality-side-10 if present
    .venv/bin/python bench/startup.py --model runs/x   # another saved model as well
    .venv/bin/python bench/startup.py --runs 5

Each run starts a fresh `python -m keras_seq2seq.cli translate --model DIR` (imports, loading and
compiling all count), writes one sentence to its stdin and times its first output line: greedy
and beam 5, cold (compile cache off) and warm (the cache filled by one earlier start), the median
of `--runs` runs each. Last line: `startup: first_sentence_s=<worst warm median> cold_s=<worst
cold median> (goal 5.0)`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import as_the_command_does, argument_parser, last_line, train_dates_model

# spa-eng, brnn 2x256 + attention, as bench/quality.py trains it, timed too when present
REAL_MODEL = Path(__file__).resolve().parents[1] / "runs" / "quality-side-10"
GOAL_SECONDS = 5.0  # issue 4: the first sentence answered within 5 s
SENTENCES = {"dates": "July 4, 1976", "spa-eng": "Tom no sabe dónde vive María."}


def time_first_line(model: Path, sentence: str, beam_size: int, cache: Path | None) -> float:
    """Seconds from starting `seq2seq translate` until its first output line is read.

    `cache`: the compile cache directory the process uses (`compile_cache.py`), or None for none.
    """
    command = [sys.executable, "-m", "keras_seq2seq.cli", "translate", "--model", str(model),
               "--beam-size", str(beam_size)]
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    if cache is None:
        env["SEQ2SEQ_COMPILE_CACHE"] = "off"
    else:
        env.update(SEQ2SEQ_COMPILE_CACHE="on", JAX_COMPILATION_CACHE_DIR=str(cache))
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    process.stdin.write((sentence + "\n").encode())
    process.stdin.close()
    line = process.stdout.readline()
    seconds = time.perf_counter() - started
    process.wait()
    if process.returncode or not line:
        raise SystemExit(f"startup: translate failed on {model}:\n{process.stderr.read().decode()}")
    return seconds


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--model", action="append", type=Path, default=[],
                        help="a saved model directory to time as well (repeatable)")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per row (median reported)")
    args = parser.parse_args()
    as_the_command_does()
    with tempfile.TemporaryDirectory() as temp:
        models = [("dates", train_dates_model(Path(temp) / "dates", pairs=2000, epochs=1), SENTENCES["dates"])]
        if REAL_MODEL.is_dir():
            models.append(("spa-eng", REAL_MODEL, SENTENCES["spa-eng"]))
        models += [(path.name, path, SENTENCES["spa-eng"]) for path in args.model]
        print(f"seconds from process start to the first output line, median of {args.runs} fresh "
              f"processes (shared machine)")
        print("cold: no compile cache (a first start); warm: the compile cache filled by one "
              "earlier start on the same model and search (every later start)")
        print(f"{'model':<28} {'search':<8} {'cache':<6} {'median':>7} {'runs':>24}")
        worst = {"cold": 0.0, "warm": 0.0}
        for name, path, sentence in models:
            for beam in (1, 5):
                cache = Path(temp) / f"cache-{name}-{beam}"
                time_first_line(path, sentence, beam, cache)  # fills the cache
                for label, directory in (("cold", None), ("warm", cache)):
                    times = [time_first_line(path, sentence, beam, directory) for _ in range(args.runs)]
                    median = statistics.median(times)
                    worst[label] = max(worst[label], median)
                    search = "greedy" if beam == 1 else f"beam {beam}"
                    print(f"{name:<28} {search:<8} {label:<6} {median:>7.2f} "
                          f"{' '.join(f'{t:.2f}' for t in times):>24}", flush=True)
    last_line("startup", {"first_sentence_s": f"{worst['warm']:.2f}", "cold_s": f"{worst['cold']:.2f}"},
              suffix=f" (goal {GOAL_SECONDS})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
