"""``counterunit eval hall``: the hand-counted vtest.avi and the composed 0/2/4/6-people cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")

pytestmark = pytest.mark.skipif(not VTEST.is_file(), reason="opencv-doc not installed")


def _eval(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "firmware.cli", "eval", "hall", *args],
                          capture_output=True, text=True, env=env, timeout=240, check=False)


def test_vtest_counts_within_one_person_per_second(tmp_path: Path) -> None:
    done = _eval("--dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "eval hall: 5/5 cases pass"
    for k in (0, 2, 4, 6):  # composed into the folder, scored, kept for a re-run
        assert (tmp_path / f"composed_{k}.mp4").is_file()
        assert any(line.startswith(f"ok   composed_{k} ") for line in lines)
    case = next(line for line in lines if " vtest " in line)
    mae = float(case.split("MAE ")[1].split()[0])
    assert case.startswith("ok") and mae <= 1.0 and "over 77 samples" in case


def test_a_case_that_misses_fails_and_bad_truth_is_named(tmp_path: Path) -> None:
    truth = json.loads((REPO / "tests/data/hall/vtest.json").read_text())
    # The same video claimed to hold three more people every second: MAE >= 3, a FAIL.
    truth["case"] = "vtest_plus3"
    truth["counts"] = [{**s, "count": s["count"] + 3} for s in truth["counts"]][:20]
    (tmp_path / "plus3.json").write_text(json.dumps(truth))
    done = _eval("--dir", str(tmp_path), "--no-compose")
    assert done.returncode == 1 and done.stdout.splitlines()[0].startswith("FAIL vtest_plus3")
    assert done.stdout.strip().splitlines()[-1] == "eval hall: 0/1 cases pass"
    (tmp_path / "plus3.json").write_text(json.dumps({**truth, "suite": "presence"}))
    bad = _eval("--dir", str(tmp_path), "--no-compose")
    assert bad.returncode == 2 and 'plus3.json: suite must be "hall"' in bad.stderr
