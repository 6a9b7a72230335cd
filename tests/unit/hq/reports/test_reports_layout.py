"""hq/reports keeps its layering: the pure figures import no I/O, subpackages import only
those below them, and no two modules import each other (issue 20)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
REPORTS = ROOT / "hq" / "reports"
# Each subpackage may import those listed before it (and itself), never one after it.
ORDER = ("figures", "tables", "ingest", "query", "entries", "exports", "demo", "cli")
# What the pure logic may import besides the standard library's pure parts.
PURE_ALLOWED = {"__future__", "collections", "dataclasses", "datetime", "functools", "math",
                "typing", "zoneinfo", "pydantic"}


def _modules() -> dict[str, Path]:
    out = {}
    for f in REPORTS.rglob("*.py"):
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ``known`` that ``name`` imports, lazily or not; other imports as given."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[:len(pkg.split(".")) - (node.level - 1)]
                base = ".".join([*up, *([base] if base else [])])
            for a in node.names:
                full = f"{base}.{a.name}"
                out.add(full if full in known else base)
    out.discard(name)
    return out


def _part(module: str) -> str:
    return module.split(".")[2] if module.count(".") >= 2 else ""


MODULES = _modules()
GRAPH = {m: _imports(m, p, set(MODULES)) for m, p in MODULES.items()}


def test_the_subpackages_are_the_ones_ordered() -> None:
    parts = {_part(m) for m in MODULES} - {""}
    assert parts == set(ORDER)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m) == "figures"))
def test_the_pure_figures_import_no_io(module: str) -> None:
    bad = {i for i in GRAPH[module] if i.split(".")[0] not in PURE_ALLOWED
           and not i.startswith("hq.reports.figures")}
    assert not bad, f"{module} imports {sorted(bad)}"


def test_subpackages_import_only_those_below_them() -> None:
    bad = []
    for m, targets in GRAPH.items():
        for t in targets:
            if t.startswith("hq.reports.") and _part(m) and _part(t) and (
                    ORDER.index(_part(t)) > ORDER.index(_part(m))):
                bad.append(f"{m} -> {t}")
    assert not bad


def test_no_import_cycle_between_modules() -> None:
    done: set[str] = set()

    def visit(m: str, path: list[str]) -> None:
        if m in path:
            raise AssertionError(" -> ".join([*path[path.index(m):], m]))
        if m in done:
            return
        for t in sorted(GRAPH.get(m, set()) & set(MODULES)):
            visit(t, [*path, m])
        done.add(m)

    for m in sorted(MODULES):
        visit(m, [])
