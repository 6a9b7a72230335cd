"""``counterunit doctor`` through the real command line on this machine (no camera attached).

Runs ``python -m firmware.cli.install`` (the installer subcommands' own entry) and the
same through ``python -m firmware.cli``, the console script: a ``doctor`` missing from
the console script fails here (it used to skip).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.config.base import DEFAULT_CONFIG_PATH
from firmware.doctor.report import CHECK_NAMES


def run(module: str, *args: str | Path, columns: int = 400) -> subprocess.CompletedProcess[str]:
    # Wide by default, so that no cell wraps and phrases can be looked for.
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_console_script_offers_doctor() -> None:
    from firmware.cli.app import build_parser

    assert "doctor" in build_parser().format_help()


ENTRIES = ["firmware.cli.install", "firmware.cli.app"]


@pytest.mark.parametrize("module", ENTRIES)
def test_doctor_without_config_on_this_machine(module: str) -> None:
    proc = run(module, "doctor")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    for name in CHECK_NAMES:
        assert name in out, f"row {name!r} missing:\n{out}"
    if not DEFAULT_CONFIG_PATH.exists():
        assert f"{DEFAULT_CONFIG_PATH}: missing" in out
        assert "(default; no valid config)" in out
    assert "no camera found" in out or "config wants" in out
    last = out.rstrip().splitlines()[-1]
    assert "FAIL" in last and "not ready" in last


def test_doctor_json_with_a_config(tmp_path: Path) -> None:
    cfg = tmp_path / "unit.toml"
    cfg.write_text(f'[unit]\ndata_dir = "{tmp_path / "data"}"\n'
                   f'[camera]\ntype = "file"\npath = "{tmp_path / "missing.mp4"}"\n'
                   '[keypad]\nurl = "loop://"\n')
    proc = run("firmware.cli.install", "doctor", "--config", cfg, "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    by = {c["check"]: c for c in doc["checks"]}
    assert list(by) == list(CHECK_NAMES)
    assert by["config"]["status"] == "ok"
    assert by["camera: configured"] == {
        "check": "camera: configured", "status": "FAIL",
        "found": f"config wants file camera {tmp_path / 'missing.mp4'}: no such file",
        "fix": "fix camera.path"}
    assert by["keypad"]["status"] == "warn" and "loop://" in by["keypad"]["found"]
    assert by["data dir"]["status"] in ("warn", "FAIL")  # missing; made at first start
    assert by["models"]["status"] == "ok"


def test_doctor_lists_every_config_problem(tmp_path: Path) -> None:
    cfg = tmp_path / "unit.toml"
    cfg.write_text('[camera]\ntype = "file"\npath = "/x.mp4"\nrecord_bitrate = 1\n'
                   '[unit]\nunit_idd = "u"\n')
    proc = run("firmware.cli.install", "doctor", "--config", cfg)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "2 problem(s)" in proc.stdout
    assert "unit.unit_idd: unknown key" in proc.stdout
    assert "record_bitrate" in proc.stdout


def test_doctor_table_fits_a_narrow_terminal() -> None:
    proc = run("firmware.cli.install", "doctor", columns=100)
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    for name in CHECK_NAMES:  # names never wrap
        assert any(line.startswith(f"  {name} ") for line in lines), name
