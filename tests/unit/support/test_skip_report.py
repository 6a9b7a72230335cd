"""tests/skip_report.py: every skip listed with its reason, and counted, with and without xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

SAMPLE = '''
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.skipif(True, reason="same reason thrice")
def test_folded(n):
    pass

def test_runtime_skip():
    pytest.skip("decided at run time")

def test_passes():
    pass
'''
WHOLE_MODULE = 'import pytest\npytest.importorskip("no_such_module_here", reason="module absent")\n'


@pytest.mark.parametrize("workers", ["0", "2"])
def test_every_skip_has_its_own_line_and_the_total_matches(tmp_path: Path, workers: str) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "test_whole.py").write_text(WHOLE_MODULE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", workers, "-p", "no:cacheprovider",
         "-p", "tests.skip_report", "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    lines = [line for line in out.splitlines() if line.startswith("skipped: ")]
    assert sorted(lines) == [
        "skipped: test_sample.py::test_folded[1]: same reason thrice",
        "skipped: test_sample.py::test_folded[2]: same reason thrice",
        "skipped: test_sample.py::test_folded[3]: same reason thrice",
        "skipped: test_sample.py::test_runtime_skip: decided at run time",
        "skipped: test_whole.py: module absent",
    ]
    assert "5 skipped in total" in out
    assert "5 skipped" in out.splitlines()[-1]  # pytest's own count agrees
