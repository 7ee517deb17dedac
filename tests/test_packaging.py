"""The package as it is shipped: a wheel with its page and entry point, ranges for dependencies,
and one file of exact versions that `make` and CI install from."""

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from keras_seq2seq import __version__

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: the build needs nothing the test environment lacks, and no network.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(ROOT)], check=True, capture_output=True, timeout=300)
    (path,) = out.glob("keras_seq2seq-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_holds_the_package_its_page_and_nothing_else(wheel):
    names = set(wheel.namelist())
    for page in ("index.html", "app.js", "style.css"):
        assert f"keras_seq2seq/serving/static/{page}" in names
    for module in ("cli.py", "translator.py", "run_config.py", "model_card.py", "extras.py", "backend.py",
                   "commands/train.py", "search/beam.py", "layers/attention.py"):
        assert f"keras_seq2seq/{module}" in names
    assert not any(name.startswith(("tests/", "bench/", "docs/", "examples/")) for name in names)


def test_the_wheel_declares_the_command_the_ranges_and_the_extras(wheel):
    dist_info = next(name.split("/")[0] for name in wheel.namelist() if name.endswith(".dist-info/METADATA"))
    assert dist_info == f"keras_seq2seq-{__version__}.dist-info"
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert re.search(r"^seq2seq = keras_seq2seq\.cli:main$", entry_points, re.MULTILINE)
    metadata = wheel.read(f"{dist_info}/METADATA").decode()
    assert "Requires-Python: >=3.11" in metadata
    requires = [Requirement(line.split(": ", 1)[1]) for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    keras = next(r for r in requires if r.name == "keras")
    assert keras.specifier.contains("3.15.1") and not keras.specifier.contains("4.0.0")
    extras = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Provides-Extra:")}
    assert {"serve", "plot", "tensorboard", "torch", "all"} <= extras


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_requirement_is_pinned_within_its_range():
    pins = pinned()
    requirements = [*PROJECT["dependencies"], *(text for texts in PROJECT["optional-dependencies"].values()
                                                for text in texts)]
    for requirement in map(Requirement, requirements):
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name == "keras-seq2seq":
            continue
        assert name in pins, f"{name} is not in constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"
    assert pins["torch"] == "2.13.0"


def test_make_and_ci_install_from_the_constraints():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--constraint constraints.txt" in makefile and "'.[all,test]'" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
