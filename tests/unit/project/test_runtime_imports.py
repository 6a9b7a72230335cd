"""The unit's run-time code never imports set-up code (fetching and building models)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RUNTIME_PACKAGES = ["firmware", "hal", "vision", "audio", "evaluator", "sync"]
SET_UP = "vision.models."
SET_UP_MODULES = {"fetch", "quantize", "calibration", "fold", "parity", "uint8_input"}


def _set_up_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            if name.startswith(SET_UP) and name[len(SET_UP):].split(".")[0] in SET_UP_MODULES:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    return found


def test_run_time_modules_do_not_import_set_up_code() -> None:
    offenders = []
    for pkg in RUNTIME_PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if path.parent == ROOT / "vision" / "models":
                continue  # the set-up modules themselves
            offenders += _set_up_imports(path)
    assert not offenders, "\n".join(offenders)
