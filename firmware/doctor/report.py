"""``counterunit doctor``: every check an installer needs, one table, exit 1 on any FAIL.

Each check is isolated: an exception inside one becomes a FAIL row naming it,
and the others still run, so the report is always complete. Without a valid
config the device and folder checks use the config's defaults (and say so).
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import cache, partial
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from firmware.config.unit import (
    DEFAULT_CONFIG_PATH,
    KeypadConfig,
    SerialBadgeConfig,
    UnitConfig,
    UnitSection,
)
from firmware.doctor.cameras import check_configured_camera
from firmware.doctor.checks import (
    check_clock,
    check_config,
    check_data_dir,
    check_identity,
    check_models,
)
from firmware.doctor.devices import check_audio, check_badge, check_keypad, check_serial_ports
from firmware.doctor.host import CheckResult, Host, captured_output
from hal.camera.inventory.listing import CameraInventory, take_inventory
from hal.camera.inventory.rows import INVENTORY_ROWS
from hal.queue.backends import QUEUE_FEEDS
from hal.registry import Backend, backend_for

log = logging.getLogger(__name__)

CHECK_NAMES = (
    "config", "camera: V4L2", "camera: libcamera (Pi)", "camera: OAK (depthai)",
    "camera: configured", "audio input", "serial ports", "keypad", "badge reader", "models",
    "data dir", "clock sync", "HQ identity",
)
_STYLE = {"ok": "green", "warn": "yellow", "FAIL": "bold red", "n/a": "dim"}


def guarded_rows(name: str, check: Callable[[], list[CheckResult]]) -> list[CheckResult]:
    """Run one check; an exception becomes a FAIL row naming it (never a traceback)."""
    with captured_output() as stray:
        try:
            rows = check()
        except Exception as exc:
            log.debug("check %s crashed", name, exc_info=True)
            rows = [CheckResult(name, "FAIL", f"check crashed: {type(exc).__name__}: {exc}",
                                "report this with the output of counterunit doctor --json")]
    if stray[0].strip():
        log.debug("check %s: output from libraries: %s", name, stray[0].strip())
    return rows


def guarded(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """One row of ``guarded_rows``."""
    return guarded_rows(name, lambda: [check()])[0]


def backend_diagnostics(cfg: UnitConfig | None, host: Host) -> list[CheckResult]:
    """The rows the configured queue feed declares for itself (hal/*/backends.py
    ``diagnose``); the camera's, microphone's, keypad's and badge reader's answer for
    their own rows above."""
    if cfg is None:
        return []
    parts: list[tuple[str, Sequence[Backend], BaseModel | None]] = [
        ("queue", QUEUE_FEEDS, cfg.queue)]
    rows: list[CheckResult] = []
    for section, backends, part in parts:
        if part is not None:
            rows += guarded_rows(section, partial(_diagnose, backends, part, host))
    return rows


def _diagnose(backends: Sequence[Backend], part: BaseModel, host: Host) -> list[CheckResult]:
    return backend_for(backends, part).diagnostics(part, host)


def run_doctor(config_path: Path | None, host: Host | None = None) -> list[CheckResult]:
    """Every check, in CHECK_NAMES order, then the rows other back-ends declare."""
    host = host or Host()
    cfg: UnitConfig | None = None

    def config() -> CheckResult:
        nonlocal cfg
        row, cfg = check_config(config_path)
        return row

    config_row = guarded("config", config)
    default = cfg is None
    keypad: Any = KeypadConfig.model_validate({}) if cfg is None else cfg.keypad
    badge: Any = SerialBadgeConfig.model_validate({}) if cfg is None else cfg.badge
    data_dir = UnitSection.model_validate({}).data_dir if cfg is None else cfg.unit.data_dir

    @cache
    def inventory() -> CameraInventory:
        return take_inventory(host)

    def on_inventory(row: Callable[[CameraInventory], CheckResult]) -> Callable[[], CheckResult]:
        return lambda: row(inventory())

    checks: list[tuple[str, Callable[[], CheckResult]]] = [
        *((name, on_inventory(row)) for name, row in INVENTORY_ROWS),
        ("camera: configured", lambda: check_configured_camera(
            None if cfg is None else cfg.camera, inventory(), host)),
        ("audio input", lambda: check_audio(None if cfg is None else cfg.microphone, host)),
        ("serial ports", lambda: check_serial_ports(host)),
        ("keypad", lambda: check_keypad(keypad, host, default)),
        ("badge reader", lambda: check_badge(badge, host, default)),
        ("models", lambda: check_models(None if cfg is None else cfg.vision.models_dir)),
        ("data dir", lambda: check_data_dir(data_dir, host, default)),
        ("clock sync", lambda: check_clock(host)),
        ("HQ identity", lambda: check_identity(cfg, host)),
    ]
    rows = [config_row] + [guarded(name, fn) for name, fn in checks]
    return rows + backend_diagnostics(cfg, host)


def exit_code(rows: list[CheckResult]) -> int:
    """0 when nothing failed, 1 otherwise."""
    return 1 if any(r.status == "FAIL" for r in rows) else 0


def summary(rows: list[CheckResult]) -> str:
    fails = sum(r.status == "FAIL" for r in rows)
    warns = sum(r.status == "warn" for r in rows)
    if fails:
        return f"{fails} FAIL, {warns} warn: this unit is not ready; fix the FAIL rows first"
    if warns:
        return f"no FAIL, {warns} warn: the unit can run; read the warnings"
    return "all checks passed"


def render_table(rows: list[CheckResult], out: IO[str], config_path: Path | None) -> None:
    """The human report: a table (colours only on a terminal) and a summary line."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    tty = out.isatty()
    # The terminal's width, else $COLUMNS, else 120 (a pipe or a log file).
    width = shutil.get_terminal_size((120, 24)).columns
    console = Console(file=out, width=max(width, 80), force_terminal=tty, no_color=not tty,
                      highlight=False, emoji=False)
    title = f"counterunit doctor ({config_path or DEFAULT_CONFIG_PATH})"
    table = Table(title=title, box=box.SIMPLE_HEAD, show_lines=False, title_justify="left")
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("found", overflow="fold", ratio=3)
    table.add_column("what to do", overflow="fold", ratio=2)
    for r in rows:
        # Text, not markup: found values carry paths and [brackets] from device names.
        table.add_row(r.check, Text(r.status, style=_STYLE[r.status]), Text(r.found),
                      Text(r.fix))
    console.print(table)
    console.print(Text(summary(rows), style=_STYLE["FAIL" if exit_code(rows) else "ok"]))


def render_json(rows: list[CheckResult], out: IO[str], config_path: Path | None) -> None:
    doc = {"config": str(config_path or DEFAULT_CONFIG_PATH), "ok": exit_code(rows) == 0,
           "checks": [asdict(r) for r in rows]}
    out.write(json.dumps(doc, indent=2) + "\n")


def doctor(config_path: Path | None, as_json: bool = False, out: IO[str] | None = None,
           host: Host | None = None) -> int:
    """Run every check, print the report, return the exit code."""
    rows = run_doctor(config_path, host)
    (render_json if as_json else render_table)(rows, out or sys.stdout, config_path)
    return exit_code(rows)
