"""The whole doctor run on a fake host: every row, isolation of a crashing check, exit code,
and the table / JSON renderings."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from firmware.doctor.host import CheckResult, Host
from firmware.doctor.report import CHECK_NAMES, doctor, exit_code, render_table, run_doctor, summary

T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def no_modules(name: str) -> Any:
    raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@pytest.fixture
def unit_root(tmp_path: Path) -> Iterator[Path]:
    """A fake root with the keypad and badge as udev links to real ptys, a config, a video."""
    fds: list[int] = []
    dev = tmp_path / "root/dev"
    dev.mkdir(parents=True)
    for name, kernel in (("counterunit-keypad", "ttyACM0"), ("counterunit-badge", "ttyUSB0")):
        controller, peer = os.openpty()
        fds += [controller, peer]
        (dev / kernel).symlink_to(os.ttyname(peer))
        (dev / name).symlink_to(kernel)
    (tmp_path / "day.mp4").write_bytes(b"x")
    (tmp_path / "data").mkdir()
    (tmp_path / "unit.toml").write_text(
        f'[unit]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[camera]\ntype = "file"\npath = "{tmp_path / "day.mp4"}"\n')
    try:
        yield tmp_path
    finally:
        for fd in fds:
            os.close(fd)


def fake_host(root: Path, **kw: Any) -> Host:
    ports = [SimpleNamespace(device="/dev/ttyUSB0", description="[FT232R] UART",
                             serial_number=None)]
    args: dict[str, Any] = dict(root=root / "root", importer=no_modules,
                                comports=lambda: ports, clock_synced=lambda: True,
                                now=lambda: T0, disk_free=lambda p: 64 << 30)
    args.update(kw)
    return Host(**args)


def test_every_row_in_order_and_nothing_fails(unit_root: Path) -> None:
    rows = run_doctor(unit_root / "unit.toml", fake_host(unit_root))
    assert tuple(r.check for r in rows) == CHECK_NAMES
    by = {r.check: r for r in rows}
    assert by["config"].status == "ok"
    assert by["keypad"].status == "ok" and "-> /dev/ttyACM0" not in by["keypad"].found
    assert by["keypad"].found.startswith("/dev/counterunit-keypad -> ")
    assert by["camera: configured"].status == "warn"  # a file camera is not a live one
    assert by["camera: libcamera (Pi)"].found == "not checked: picamera2 not installed"
    assert by["HQ identity"].status == "n/a"
    assert exit_code(rows) == 0, [r for r in rows if r.status == "FAIL"]


def test_missing_config_still_reports_every_row(unit_root: Path) -> None:
    rows = run_doctor(unit_root / "nope.toml", fake_host(unit_root))
    assert tuple(r.check for r in rows) == CHECK_NAMES
    by = {r.check: r for r in rows}
    assert by["config"].status == "FAIL" and "missing" in by["config"].found
    # Defaults are checked and labelled as such; the default udev links exist here.
    assert "(default; no valid config)" in by["keypad"].found
    assert by["camera: configured"].found == "no camera found (V4L2, libcamera, OAK)"
    assert exit_code(rows) == 1


def test_a_crashing_check_is_a_fail_row_and_the_rest_run(unit_root: Path) -> None:
    def broken() -> list[Any]:
        raise RuntimeError("udev database locked")

    rows = run_doctor(unit_root / "unit.toml", fake_host(unit_root, comports=broken))
    assert tuple(r.check for r in rows) == CHECK_NAMES
    serial = rows[CHECK_NAMES.index("serial ports")]
    assert serial.status == "FAIL"
    assert serial.found == "check crashed: RuntimeError: udev database locked"
    assert rows[CHECK_NAMES.index("keypad")].status == "ok"


def test_a_crashing_inventory_fails_only_the_camera_rows(unit_root: Path) -> None:
    def querycap(path: Path) -> bytes:
        raise RuntimeError("driver bug")

    (unit_root / "root/dev/video0").touch()
    rows = run_doctor(unit_root / "unit.toml", fake_host(unit_root, querycap=querycap))
    assert [r.status for r in rows if r.check.startswith("camera")] == ["FAIL"] * 4
    assert rows[1].found == "check crashed: RuntimeError: driver bug"
    assert rows[CHECK_NAMES.index("models")].status == "ok"


ROWS = [CheckResult("config", "ok", "/etc/x.toml [zones seat]"),
        CheckResult("keypad", "FAIL", "/dev/counterunit-keypad: not present", "plug it in"),
        CheckResult("clock sync", "warn", "not synchronised", "timedatectl set-ntp true")]


def test_render_table_plain_when_not_a_terminal() -> None:
    out = io.StringIO()
    render_table(ROWS, out, Path("/etc/x.toml"))
    text = out.getvalue()
    assert "\x1b[" not in text  # no colour codes in a pipe
    assert "/etc/x.toml [zones seat]" in text  # brackets are text, not rich markup
    for r in ROWS:
        assert r.check in text and r.status in text
    assert text.rstrip().endswith("1 FAIL, 1 warn: this unit is not ready; fix the FAIL rows "
                                  "first")


@pytest.mark.parametrize("statuses,code,words", [
    (["ok", "n/a"], 0, "all checks passed"),
    (["ok", "warn"], 0, "no FAIL, 1 warn"),
    (["warn", "FAIL", "FAIL"], 1, "2 FAIL, 1 warn"),
])
def test_exit_code_and_summary(statuses: list[Any], code: int, words: str) -> None:
    rows = [CheckResult(f"c{i}", s, "") for i, s in enumerate(statuses)]
    assert exit_code(rows) == code and summary(rows).startswith(words)


def test_json_report(unit_root: Path) -> None:
    out = io.StringIO()
    code = doctor(unit_root / "nope.toml", as_json=True, out=out, host=fake_host(unit_root))
    doc = json.loads(out.getvalue())
    assert code == 1 and doc["ok"] is False
    assert [c["check"] for c in doc["checks"]] == list(CHECK_NAMES)
    assert set(doc["checks"][0]) == {"check", "status", "found", "fix"}
