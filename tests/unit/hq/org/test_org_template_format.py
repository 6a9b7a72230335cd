"""``hq import-template``: the file's extension picks the format unless --format says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hq.org.cli import template_format


@pytest.mark.parametrize(("out", "given", "expected"), [
    ("staff.csv", None, "csv"),
    ("staff.XLSX", None, "xlsx"),
    ("staff.csv", "csv", "csv"),
    ("staff.txt", "csv", "csv"),
    ("staff", "xlsx", "xlsx"),
])
def test_format_follows_extension(out: str, given: str | None, expected: str) -> None:
    assert template_format(Path(out), given) == expected


@pytest.mark.parametrize(("out", "given", "message"), [
    ("staff.txt", None, "name it .csv or .xlsx"),
    ("staff.csv", "xlsx", "ends .csv but --format is xlsx"),
])
def test_refused(out: str, given: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        template_format(Path(out), given)


def test_command_writes_csv_for_a_csv_name(tmp_path: Path) -> None:
    out = tmp_path / "staff.csv"
    run = subprocess.run([sys.executable, "-m", "firmware.cli", "hq", "import-template", "staff",
                          "--out", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes()[:2] != b"PK"  # not a zip (XLSX)
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("staff_no")
    bad = subprocess.run([sys.executable, "-m", "firmware.cli", "hq", "import-template", "staff",
                          "--out", str(tmp_path / "s.txt")], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and "name it .csv or .xlsx" in bad.stderr
    assert not (tmp_path / "s.txt").exists()
