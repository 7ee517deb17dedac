"""Write constraints.txt: the exact version of every package `.[all,test]` installs, as installed
in the running environment (after an upgrade that the suite passed: `make constraints`).

pyproject.toml says which ranges the package works with; this file says which versions were
tested, and `make demo`, `make test` and CI install with `--constraint constraints.txt`, so a
fresh machine gets exactly those.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "keras-seq2seq"
EXTRAS = ("all", "test")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_requirements() -> list[Requirement]:
    """pyproject.toml's dependencies and those of `EXTRAS`, an extra naming others followed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    optional = project["optional-dependencies"]
    found, extras = [Requirement(text) for text in project["dependencies"]], list(EXTRAS)
    while extras:
        for requirement in map(Requirement, optional[extras.pop()]):
            if canonical(requirement.name) == PROJECT:
                extras.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


def closure() -> dict[str, str]:
    """`{name: version}` of everything the project's extras pull in, transitively, as installed."""
    found: dict[str, str] = {}
    pending = [(requirement.name, set(requirement.extras)) for requirement in project_requirements()]
    seen: set[tuple[str, frozenset]] = set()
    while pending:
        name, extras = pending.pop()
        key = (canonical(name), frozenset(extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            sys.exit(f"{name} is required but not installed here; install the project first")
        found[dist.metadata["Name"]] = dist.version
        for text in dist.requires or []:
            requirement = Requirement(text)
            markers = [{"extra": extra} for extra in extras or {""}]
            if requirement.marker is None or any(requirement.marker.evaluate(m) for m in markers):
                pending.append((requirement.name, set(requirement.extras)))
    return found


def main() -> None:
    lines = ["# Exact versions the suite passed with (written by .ci/constraints.py; see there).",
             "# Installed with: pip install --constraint constraints.txt -e '.[all,test]'"]
    for name, version in sorted(closure().items(), key=lambda item: canonical(item[0])):
        lines.append(f"{name}=={version.split('+')[0]}")  # torch 2.13.0+cpu: the file on disk is ==2.13.0
    (ROOT / "constraints.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"constraints.txt: {len(lines) - 2} packages")


if __name__ == "__main__":
    main()
