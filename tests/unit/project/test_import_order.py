"""Every module imports on its own, whichever is imported first.

Python runs a package's ``__init__`` before any module inside it, so ``import a.b.c`` also
runs ``a/__init__`` and ``a/b/__init__``. A circle through those implicit steps breaks only
when a module in it is the first one imported: ``hq.org.config.versions`` failed that way
while ``hq.storage``'s ``__init__`` loaded the event store and, through ingest's
projections, ``hq.org`` again. This walks the imports run at import time (module level,
not inside functions or ``if TYPE_CHECKING``), adds each package's ``__init__`` on the way,
and finds the circles.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("hq", "firmware", "sync", "vision", "hal", "evaluator", "audio")


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for top in PACKAGES:
        for f in (ROOT / top).rglob("*.py"):
            if "migrations" in f.parts:
                continue  # alembic loads these by path
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _run_at_import(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Import statements a module runs when it is imported (try/if blocks included)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _run_at_import(node.body)
            found += _run_at_import(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody,
                          *(h.body for h in node.handlers)):
                found += _run_at_import(block)
    return found


def _with_packages(target: str, known: set[str]) -> list[str]:
    """What importing ``target`` runs: each enclosing package's __init__, then it."""
    parts = target.split(".")
    return [m for i in range(1, len(parts) + 1) if (m := ".".join(parts[:i])) in known]


def imports_at_import_time(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that importing ``name`` runs directly."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _run_at_import(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.update(_with_packages(alias.name, known))
            continue
        base = node.module or ""
        if node.level:
            up = pkg.split(".")[:len(pkg.split(".")) - (node.level - 1)]
            base = ".".join([*up, *([base] if base else [])])
        out.update(_with_packages(base, known))
        for alias in node.names:
            if f"{base}.{alias.name}" in known:
                out.add(f"{base}.{alias.name}")
    out.discard(name)
    # a module's own packages are already running when it is: not a step of its import
    out.difference_update(_with_packages(pkg, known))
    return out


def circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules, the first repeated at the end), or None."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        found: list[str] = exc.args[1]
        return found
    return None


def test_the_circle_finder_on_a_hand_made_graph() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    found = circle(graph)
    assert found is not None and sorted(set(found)) == ["a", "b", "c"]
    assert circle({"d": {"a"}, "a": set()}) is None


def test_a_package_init_counts_as_a_step(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text("from .events import Store\n")
    mod = tmp_path / "models.py"
    mod.write_text("import pkg.other\nfrom pkg.sub import thing\n"
                   "if TYPE_CHECKING:\n    import pkg.hidden\n"
                   "def f():\n    import pkg.late\n")
    known = {"pkg", "pkg.events", "pkg.models", "pkg.other", "pkg.sub", "pkg.sub.thing",
             "pkg.hidden", "pkg.late"}
    assert imports_at_import_time("pkg", init, known) == {"pkg.events"}
    assert imports_at_import_time("pkg.models", mod, known) == {
        "pkg.other", "pkg.sub", "pkg.sub.thing"}


def test_no_module_depends_on_which_is_imported_first() -> None:
    modules = _modules()
    known = set(modules)
    graph = {m: imports_at_import_time(m, p, known) for m, p in modules.items()}
    assert len(graph) > 400
    assert circle(graph) is None
