"""`counterunit hq seed-demo`: reproducible, plausible, and one unit stops syncing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hq.cli import main
from hq.reports.figures import metrics as figures
from hq.reports.query import levels, usage
from hq.storage.scope import Scope
from hq.storage.sqlite import connect

ARGS = ["--branches", "1", "--halls", "1", "--windows", "3", "--days", "14", "--seed", "7",
        "--end", "2026-03-15", "--txn-per-day", "8"]
FIRST, LAST = dt.date(2026, 3, 2), dt.date(2026, 3, 15)


def _seed(d: Path) -> list[figures.Figures]:
    assert main(["seed-demo", "--data", str(d), *ARGS]) == 0
    conn = connect(d / "events.db")
    try:
        return levels.report(conn, Scope.everything(), "window", FIRST, LAST).rows
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[figures.Figures]]:
    d = tmp_path_factory.mktemp("seed")
    return d, _seed(d)


def test_same_seed_same_figures(seeded: tuple[Path, list[figures.Figures]],
                                tmp_path: Path) -> None:
    assert _seed(tmp_path) == seeded[1]


def test_plausible(seeded: tuple[Path, list[figures.Figures]]) -> None:
    rows = seeded[1]
    assert [r.key for r in rows] == ["B01H1W01", "B01H1W02", "B01H1W03"]
    for r in rows:
        assert 40 <= r.transactions <= 12 * 8 * 2  # 12 working days, ~8 a day
        assert r.closed_s >= 5 * 3600  # the lunch breaks (W03 stops syncing on the 10th)
        assert r.satisfaction_pct is not None and 30 <= r.satisfaction_pct <= 100
        assert r.shifts == 12 and r.attendance_pct is not None
        assert 60 <= (r.handling_median_s or 0) <= 400
    assert sum(r.off_seat_count for r in rows) > 3 * 12  # breaks and episodes
    conn = connect(seeded[0] / "events.db")
    ev = usage.event_counts(conn, Scope.everything(), dt.datetime(2026, 3, 1, 16, tzinfo=dt.UTC),
                            dt.datetime(2026, 3, 15, 16, tzinfo=dt.UTC))
    conn.close()
    assert ev.ratings_by_key[5] > ev.ratings_by_key[1]
    assert ev.unrated > 0 and ev.alerts["off_seat"][1] > 0


def test_the_last_unit_stops_syncing(seeded: tuple[Path, list[figures.Figures]]) -> None:
    conn = connect(seeded[0] / "events.db")
    rep = levels.report(conn, Scope.everything(), "window", dt.date(2026, 3, 9), LAST)
    conn.close()
    assert [(g.window_id, g.reason) for g in rep.meta.gaps] == [("B01H1W03", "not_synced")]


def test_refuses_a_used_folder(seeded: tuple[Path, list[figures.Figures]],
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed-demo", "--data", str(seeded[0]), *ARGS]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["seed-demo", "--data", str(seeded[0] / "x"), "--windows", "0"]) == 2


def test_progress_counts_every_unit_month(tmp_path: Path) -> None:
    from hq.reports.demo.seed import SeedSpec, seed

    told: list[tuple[int, int]] = []
    spec = SeedSpec(branches=1, halls=1, windows=2, days=40, seed=3, txn_per_day=2,
                    end=dt.date(2026, 3, 15))
    seed(tmp_path, spec, lambda done, total: told.append((done, total)))
    # 2026-02-04 .. 2026-03-15 spans February and March: 2 windows x 2 months.
    assert told == [(1, 4), (2, 4), (3, 4), (4, 4)]
