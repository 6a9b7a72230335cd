"""bench/bench_hq_ingest.py keeps working: its figures' arithmetic, and one short run
against a real ``hq serve`` on SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.bench_hq_ingest import percentile, summary_line

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([], 0.99, 0.0),
    ([7.0], 0.99, 7.0),
    ([float(v) for v in range(1, 101)], 0.99, 99.0),  # rank ceil(0.99 * 100) = 99
    ([float(v) for v in range(1, 101)], 0.5, 50.0),
    ([float(v) for v in range(1, 11)], 0.99, 10.0),  # rank ceil(9.9) = 10
    ([3.0, 1.0, 2.0], 0.5, 2.0),  # sorted first
])
def test_percentile_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_summary_line() -> None:
    assert summary_line("postgresql", 2, 151.4, 87.6, 0, 0) == (
        "hq ingest: postgresql backend, 2 workers, 151 events/s sustained, p99 88 ms, "
        "lost 0, duplicated 0")
    assert summary_line("sqlite", 1, 9.0, 1.0, 1, 2).startswith(
        "hq ingest: sqlite backend, 1 worker, 9 events/s")


def test_a_short_run_reads_everything_back(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_hq_ingest", "--backend", "sqlite", "--workers",
         "1", "--units", "2", "--rate", "10", "--duration", "2", "--clips-per-s", "1",
         "--clip-kb", "64", "--keep", str(tmp_path / "run")],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    last = out.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"hq ingest: sqlite backend, 1 worker, \d+ events/s sustained, "
                        r"p99 \d+ ms, lost 0, duplicated 0", last), last
    assert re.search(r"clips: [1-9]\d* uploaded .* 0 missing or wrong", out.stdout)
