"""The house rules a reader relies on: dependencies run one way, the command line is thin, the
benchmarks use the package as a user would, and measured figures live in docs/, not in code."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "keras_seq2seq"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports, anywhere in its body
    (lazy imports inside functions and TYPE_CHECKING blocks included)."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    edges = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # A module's own package (and the package root) are not dependencies of it.
                if target and target != name and not name.startswith(target + "."):
                    edges[name].add(target)
    return edges


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_import_circles_anywhere_in_the_package():
    assert _circles(_imports()) == []


def test_the_circle_finder_finds_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _room(name: str) -> str:
    """The top-level module or sub-package a module belongs to ("search" for keras_seq2seq.search.beam)."""
    return (name.split(".") + [""])[1]


def test_the_model_and_search_know_nothing_of_training_or_the_facade():
    edges = _imports()
    lower = {"layers", "search", "text", "data", "models", "transformer", "architectures", "shapes", "bundle",
             "generation", "artifacts", "model_archive", "files", "config", "errors"}
    upper = {"training", "translator", "commands", "serving", "cli"}
    for name in edges:
        if _room(name) in lower:
            upward = sorted(t for t in edges[name] if _room(t) in upper)
            assert not upward, f"{name} imports {upward}"


def test_the_command_line_module_only_builds_the_parser_and_dispatches():
    assert len((PACKAGE / "cli.py").read_text(encoding="utf-8").splitlines()) <= 150


def test_benchmarks_use_the_installed_package_without_path_edits_or_patches():
    for script in (ROOT / "bench").glob("*.py"):
        text = script.read_text(encoding="utf-8")
        assert not re.search(r"sys\.path\.(insert|append)|sys\.path\s*=", text), f"{script.name} edits sys.path"
        assert "monkeypatch" not in text and not re.search(r"\bkeras_seq2seq\.[\w.]+\s*=[^=]", text), \
            f"{script.name} patches the package"


def test_no_measured_figures_in_the_code():
    """Dated figures and the story of each optimisation belong in docs/performance.md."""
    date = re.compile(r"\b20\d\d-\d\d-\d\d\b")
    ratio = re.compile(r"\b\d+(\.\d+)?x (faster|slower|longer)\b|\b\d+(\.\d+)?%")
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code, _, comment = line.partition("#")
            unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", "", code)
            for text in (unquoted, comment):
                assert not date.search(text) and not ratio.search(text), f"{path.name}:{number}: {line.strip()}"


def test_test_modules_have_unique_names():
    """pytest imports test modules by their file name (the test folders are not packages), so two
    test files with one name in different folders stop the whole collection."""
    seen: dict[str, Path] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        assert path.name not in seen, f"{path} and {seen[path.name]} share a name"
        seen[path.name] = path
