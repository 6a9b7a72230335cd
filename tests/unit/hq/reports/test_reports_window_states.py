"""Window states at HQ: window_state events -> time open / closed / away, worked by hand.

The org is tests/helpers/hq/reports_fixture.py's (branch B1 in Asia/Shanghai, UTC+8; W1 bound to
unit U1). U1 reports, B1-local: d1 09:00 open (start, S1 logged in), 10:00 closed,
10:30 open, 23:50 away, d2 00:20 off (stopped); d2 13:00 away counted for S3 (nobody
logged in, S3 keyed it), 16:00 off. So W1 is open 60 + 800 min on d1, closed 30 min on
d1, away 10 min on d1 and 20 + 180 min on d2. S3's shift SH7 (W1 d2 13-17, no session)
is 3 of 4 h away: away on business, not absent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hq.reports.exports.tables import build
from hq.reports.figures import metrics as figures
from hq.reports.ingest.window_states import segment
from hq.reports.query import levels
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from hq.storage.sqlite import connect
from sync.schema import EventEnvelope
from tests.helpers.hq import reports_fixture as fx
from tests.servers.postgres_fixtures import Backend

B1 = Scope("branch", "B1")
NOW = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)


def _events() -> list[EventEnvelope]:
    d1, d2 = fx.D1, fx.D2
    rows = [(d1, "09:00", "open", "S1", "start"), (d1, "10:00", "closed", "S1", "keypad"),
            (d1, "10:30", "open", "S1", "default"), (d1, "23:50", "away", "S1", "card"),
            (d2, "00:20", "off", "S1", "shutdown"), (d2, "13:00", "away", "S3", "keypad"),
            (d2, "16:00", "off", "S3", "shutdown")]
    return [fx.ev("U1", "window_state", fx.local(day, hhmm), state=state, staff_id=staff,
                  source=source, previous=None, set_by=staff, note="", held_s=0.0)
            for day, hhmm, state, staff, source in rows]


def _db(tmp_path: Path, order: str) -> Path:
    path = tmp_path / "events.db"
    store = SqliteEventStore(path)
    fx.build_org(path)
    evs = _events()
    if order == "reversed":
        evs = evs[::-1]
    elif order == "interleaved":
        evs = evs[1::2] + evs[0::2]
    for e in evs:  # one batch each, as a unit retrying would send them
        store.ingest("U1", [e])
    store.ingest("U1", evs[:2])  # duplicates are ignored
    return path


def _report(path: Path, level: levels.Level, first: dt.date,
            last: dt.date) -> dict[str, figures.Figures]:
    conn = connect(path)
    try:
        return {r.key: r for r in levels.report(conn, B1, level, first, last, NOW).rows}
    finally:
        conn.close()


@pytest.mark.parametrize("order", ["in order", "reversed", "interleaved"])
@pytest.mark.parametrize(("level", "key", "first", "last", "open_min", "closed_min",
                          "away_min"), [
    ("window", "W1", fx.D1, fx.D1, 860, 30, 10),
    ("window", "W1", fx.D2, fx.D2, 0, 0, 200),
    ("window", "W1", dt.date(2026, 3, 1), dt.date(2026, 3, 31), 860, 30, 210),  # the month
    ("staff", "S1", fx.D1, fx.D2, 860, 30, 30),
    ("staff", "S3", fx.D1, fx.D2, 0, 0, 180),
])
def test_time_in_each_state(tmp_path: Path, order: str, level: levels.Level, key: str,
                            first: dt.date, last: dt.date, open_min: float,
                            closed_min: float, away_min: float) -> None:
    f = _report(_db(tmp_path, order), level, first, last)[key]
    assert (f.state_open_s / 60, f.state_closed_s / 60, f.state_away_s / 60) == (
        open_min, closed_min, away_min)


def test_away_on_business_is_not_absence(tmp_path: Path, backend: Backend) -> None:
    s3 = _report(_db(backend.migrated(tmp_path), "in order"), "staff", fx.D1, fx.D2)["S3"]
    # Only the org is loaded, no sessions: SH4 is absent; SH7 is away 3 of 4 h: business,
    # out of the attendance denominator (0 present of 2 - 1 shifts).
    assert (s3.shifts, s3.present, s3.business, s3.absent, s3.attendance_pct) == (
        2, 0, 1, 1, 0.0)


def test_without_the_away_segment_the_shift_is_absent(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    SqliteEventStore(path)
    fx.build_org(path)
    s3 = _report(path, "staff", fx.D1, fx.D2).get("S3")
    assert s3 is not None and (s3.business, s3.absent) == (0, 2)


def test_exports_carry_the_hours(tmp_path: Path, backend: Backend) -> None:
    conn = connect(_db(backend.migrated(tmp_path), "in order"))
    try:
        table = build(conn, "window", B1, fx.D1, fx.D2, NOW)
    finally:
        conn.close()
    keys = [c.key for c in table.columns]
    row = next(r for r in table.rows if r[0] == "W1")
    got = [row[keys.index(k)] for k in ("state_open_h", "state_closed_h", "state_away_h")]
    assert got == [round(860 / 60, 2), 0.5, round(210 / 60, 2)]


@pytest.mark.parametrize(("state", "start", "end", "want"), [
    ("closed", "2026-03-02T02:00:00.000000Z", "2026-03-02T02:30:00.000000Z",
     {("2026-03-02", "ws_closed_s"): 1800.0}),
    # 23:50-00:20 local (UTC+8): split at local midnight.
    ("away", "2026-03-02T15:50:00.000000Z", "2026-03-02T16:20:00.000000Z",
     {("2026-03-02", "ws_away_s"): 600.0, ("2026-03-03", "ws_away_s"): 1200.0}),
    ("off", "2026-03-02T02:00:00.000000Z", "2026-03-02T05:00:00.000000Z", {}),
    ("open", "2026-03-02T02:00:00.000000Z", None, {}),  # still in force: not yet counted
])
def test_segment_contribution(state: str, start: str, end: str | None,
                              want: dict[tuple[str, str], float]) -> None:
    got = segment(state, "S1", "W1", start, end, "Asia/Shanghai")
    assert {(k[0], k[3]): v for k, v in got.items()} == want
    assert all(k[1:3] == ("W1", "S1") for k in got)
