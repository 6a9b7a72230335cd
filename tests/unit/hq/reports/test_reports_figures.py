"""Figures from the rollups against the hand-worked fixture
(tests/helpers/hq/reports_fixture.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.reports.figures import metrics as figures
from hq.reports.query import levels, usage
from hq.reports.query.rollups import local_range
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from hq.storage.sqlite import connect
from tests.helpers.hq import reports_fixture as fx
from tests.servers.postgres_fixtures import BACKENDS, Backend, backend_for

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
B1 = Scope("branch", "B1")


@pytest.fixture(scope="module", params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
       ) -> Iterator[Path]:
    """The fixture's folder, built once per back-end for the tests that only read it."""
    backend = backend_for(request)
    yield fx.build(backend.migrated(tmp_path_factory.mktemp("hq")))
    backend.close()


@pytest.fixture
def fresh(tmp_path: Path, backend: Backend) -> Path:
    """The fixture's folder for a test that changes it."""
    return fx.build(backend.migrated(tmp_path / "hq"))


def _rows(path: Path, level: levels.Level, first: dt.date = fx.D1,
          last: dt.date = fx.D2, scope: Scope = B1) -> dict[str, figures.Figures]:
    conn = connect(path)
    try:
        rep = levels.report(conn, scope, level, first, last, NOW)
    finally:
        conn.close()
    return {r.key: r for r in rep.rows}


# (staff, field, expected) worked out by hand in the fixture's docstring.
STAFF = [
    ("S1", "label", "张伟"), ("S1", "branch", "城东支行"),
    ("S1", "transactions", 4), ("S1", "handling_mean_s", 123.8),
    ("S1", "handling_median_s", 77.5), ("S1", "handling_p90_s", 242.5),
    ("S1", "ratings", {1: 0, 2: 1, 3: 1, 4: 1, 5: 1}), ("S1", "rated", 4),
    ("S1", "satisfaction_pct", 50.0), ("S1", "unrated", 0), ("S1", "suspect", 0),
    ("S1", "off_seat_count", 2), ("S1", "off_seat_s", 370.0), ("S1", "off_seat_min", 6.2),
    ("S1", "off_seat_by_level", {1: (2, 370.0)}),
    ("S1", "off_seat_by_excuse", {"closed": (0, 0.0), "leave": (0, 0.0),
                                  "business": (1, 130.0), "unexcused": (1, 240.0)}),
    ("S1", "shifts", 3), ("S1", "present", 2), ("S1", "late", 1), ("S1", "left_early", 0),
    ("S1", "business", 1), ("S1", "absent", 0), ("S1", "attendance_pct", 100.0),
    ("S1", "session_s", 10860.0 + 13800.0),
    ("S2", "transactions", 1), ("S2", "handling_median_s", 32.5), ("S2", "rated", 1),
    ("S2", "suspect", 1), ("S2", "satisfaction_pct", None), ("S2", "unrated_pct", 0.0),
    ("S2", "off_seat_by_excuse", {"closed": (1, 600.0), "leave": (0, 0.0),
                                  "business": (0, 0.0), "unexcused": (0, 0.0)}),
    ("S2", "off_seat_by_level", {0: (1, 600.0)}),
    ("S2", "shifts", 2), ("S2", "present", 1), ("S2", "late", 0), ("S2", "left_early", 1),
    ("S2", "on_leave", 1), ("S2", "attendance_pct", 100.0),
    ("S3", "transactions", 2), ("S3", "handling_mean_s", 110.0),
    ("S3", "handling_median_s", 42.5), ("S3", "handling_p90_s", 182.5),
    ("S3", "satisfaction_pct", 100.0), ("S3", "unrated", 1), ("S3", "unrated_pct", 50.0),
    ("S3", "off_seat_by_level", {3: (1, 700.0)}), ("S3", "off_seat_min", 11.7),
    ("S3", "shifts", 2), ("S3", "present", 1), ("S3", "absent", 1),
    ("S3", "attendance_pct", 50.0), ("S3", "session_s", 28800.0),
]


@pytest.mark.parametrize(("staff", "field", "expected"), STAFF)
def test_staff_figures(db: Path, staff: str, field: str, expected: object) -> None:
    assert getattr(_rows(db, "staff")[staff], field) == expected


def test_scope_keeps_other_branches_out(db: Path) -> None:
    assert set(_rows(db, "staff")) == {"S1", "S2", "S3"}
    assert set(_rows(db, "staff", scope=Scope.everything())) == {"S1", "S2", "S3", "S4"}
    assert set(_rows(db, "window", scope=Scope("hall", "H2"))) == {"W3"}


# (level, key, first, last, field, expected)
NODES = [
    ("window", "W1", fx.D1, fx.D1, "transactions", 4),
    ("window", "W1", fx.D1, fx.D1, "closed_s", 1200.0),
    ("window", "W1", fx.D1, fx.D1, "scheduled_s", 32400.0),
    ("window", "W2", fx.D1, fx.D1, "scheduled_s", 21600.0),  # SH2 + SH4's first 2 h
    ("window", "W2", fx.D2, fx.D2, "scheduled_s", 32400.0),  # SH4's last 6 h + SH5
    ("window", "W2", fx.D1, fx.D1, "session_s", 21000.0),
    ("window", "W2", fx.D2, fx.D2, "session_s", 21600.0),
    ("window", "W2", fx.D2, fx.D2, "transactions", 1),  # T5 at 00:30 local, not UTC's day
    ("hall", "H1", fx.D1, fx.D2, "transactions", 7),
    ("hall", "H1", fx.D1, fx.D2, "off_seat_count", 4),
    ("branch", "B1", fx.D1, fx.D2, "shifts", 7),
    ("branch", "B1", fx.D1, fx.D2, "absent", 1),
    ("org", "org", fx.D1, fx.D2, "transactions", 7),
]


@pytest.mark.parametrize(("level", "key", "first", "last", "field", "expected"), NODES)
def test_node_figures(db: Path, level: levels.Level, key: str, first: dt.date,
                      last: dt.date, field: str, expected: object) -> None:
    assert getattr(_rows(db, level, first, last)[key], field) == expected


def test_late_rating_corrects_figures_and_resends_change_nothing(tmp_path: Path) -> None:
    path = fx.build(tmp_path, with_late=False)
    before = _rows(path, "staff")["S1"]
    assert (before.rated, before.unrated, before.satisfaction_pct) == (3, 1, 66.7)
    store = SqliteEventStore(path)
    store.ingest("U1", fx.late())
    after = _rows(path, "staff")
    assert (after["S1"].rated, after["S1"].unrated, after["S1"].satisfaction_pct) == (4, 0, 50.0)
    for unit, evs in fx.events().items():  # the whole fleet re-sends everything
        store.ingest(unit, evs)
    store.ingest("U1", fx.late())
    store.close()
    assert _rows(path, "staff") == after


def test_arrival_order_does_not_matter(tmp_path: Path, db: Path) -> None:
    path = tmp_path / "rev" / "events.db"
    store = SqliteEventStore(path)
    fx.build_org(path)
    for unit, evs in fx.events().items():
        for e in reversed([*evs, *(fx.late() if unit == "U1" else [])]):
            store.ingest(unit, [e])
    store.close()
    compared: tuple[levels.Level, ...] = ("staff", "window")
    for level in compared:
        assert _rows(path, level) == _rows(db, level)


def _day(d: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return fx.local(d, "00:00"), fx.local(d + dt.timedelta(1), "00:00")


USAGE = [
    ("W1", "scheduled_s", 32400.0), ("W1", "staffed_s", 29580.0), ("W1", "closed_s", 1200.0),
    ("W1", "business_s", 0.0), ("W1", "unexcused_off_seat_s", 240.0), ("W1", "customers", 4),
    ("W1", "customers_per_staffed_hour", 0.49),
    ("W2", "scheduled_s", 21600.0), ("W2", "staffed_s", 20870.0), ("W2", "closed_s", 0.0),
    ("W2", "business_s", 900.0), ("W2", "unexcused_off_seat_s", 0.0), ("W2", "customers", 2),
    ("W2", "customers_per_staffed_hour", 0.34),
]


@pytest.mark.parametrize(("window", "field", "expected"), USAGE)
def test_window_usage(db: Path, window: str, field: str, expected: object) -> None:
    conn = connect(db)
    rep = usage.window_usage(conn, B1, *_day(fx.D1), NOW)
    conn.close()
    assert getattr({w.window_id: w for w in rep.windows}[window], field) == expected


def test_window_usage_totals(db: Path) -> None:
    conn = connect(db)
    rep = usage.window_usage(conn, B1, *_day(fx.D1), NOW)
    conn.close()
    assert rep.totals == usage.UsageTotals(2, 2, 2, 1, 1, 1, 6)
    assert (rep.meta.first, rep.meta.last, rep.meta.zones) == (fx.D1, fx.D1, ("Asia/Shanghai",))


def test_event_counts(db: Path) -> None:
    conn = connect(db)
    rep = usage.event_counts(conn, B1, _day(fx.D1)[0], _day(fx.D2)[1], NOW)
    conn.close()
    assert rep.off_seat_by_level == {0: 1, 1: 2, 3: 1}
    assert rep.alerts == {"off_seat": {1: 3, 2: 1, 3: 1}, "dissatisfied": {1: 1}}
    assert rep.ratings_by_key == {1: 1, 2: 1, 3: 1, 4: 1, 5: 2}
    assert (rep.unrated, rep.suspect) == (1, 2)
    assert not rep.meta.incomplete


def test_honest_flags(db: Path) -> None:
    conn = connect(db)
    rep = levels.report(conn, Scope.everything(), "window", fx.D1, fx.D2, NOW)
    assert {(g.window_id, g.reason) for g in rep.meta.gaps} == {
        ("W3", "clock_unsynced"), ("W4", "no_unit")}
    assert rep.meta.incomplete and not rep.meta.period_open
    # A period still running, read a month from now: every unit is behind.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    first, last = local_range(later - dt.timedelta(days=1), later, "Asia/Shanghai")
    rep = levels.report(conn, B1, "window", first, last, later)
    conn.close()
    assert {(g.window_id, g.reason) for g in rep.meta.gaps} == {
        ("W1", "not_synced"), ("W2", "not_synced")}
    assert rep.meta.period_open


def test_org_edits_after_ingest_are_counted(fresh: Path) -> None:
    db = fresh
    conn = connect(db)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO org_leave (leave_id, staff_no, kind, start_utc, end_utc) VALUES "
                 "('L9', 'S3', 'leave', '2026-03-03T04:00:00.000000Z', "
                 "'2026-03-03T10:00:00.000000Z')")  # d2 12:00-18:00 local: all of SH7
    conn.execute("DELETE FROM org_shifts WHERE shift_id = 'SH5'")
    conn.execute("UPDATE org_shifts SET start_utc = '2026-03-02T00:50:00.000000Z' "
                 "WHERE shift_id = 'SH1'")  # SH1 now starts 08:50: the 09:02 login is late
    conn.execute("COMMIT")
    conn.close()
    rows = _rows(db, "staff")
    assert (rows["S3"].shifts, rows["S3"].absent, rows["S3"].on_leave,
            rows["S3"].attendance_pct) == (2, 0, 1, 100.0)
    assert (rows["S2"].shifts, rows["S2"].on_leave, rows["S2"].attendance_pct) == (1, 0, 100.0)
    assert (rows["S1"].late, rows["S1"].shifts) == (2, 3)
    assert _rows(db, "window", fx.D1, fx.D1)["W1"].scheduled_s == 32400.0 + 600.0
