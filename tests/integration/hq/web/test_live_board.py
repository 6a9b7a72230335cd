"""The dashboard's live state through HQ's real ingest: tiles per window from events, the
schedule and leave; the change counter the live feed polls, seen from a second
connection (as another HQ worker process would see it); scope."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hq.live.board import board
from hq.live.store import bump, current_seq
from hq.org.authoring.store import OrgStore
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from hq.storage.sqlite import connect
from hq.web.live.feed import poll
from sync.schema import EventEnvelope
from tests.servers.postgres_fixtures import Backend

DAY = dt.date(2026, 3, 2)  # a Monday; Asia/Shanghai is UTC+8
NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)  # 11:00 local
# window -> (unit, staff on its shift or None, leave kind of that staff or None)
WINDOWS = {"W1": ("u1", "S1", None), "W2": ("u2", "S2", None), "W3": ("u3", "S3", "business"),
           "W4": ("u4", "S4", "leave"), "W5": ("u5", None, None), "W6": ("u6", "S6", None)}


def _ev(unit: str, type_: str, minutes_before_now: float, **data: Any) -> EventEnvelope:
    return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=unit, counter_id="c",
                         utc=NOW - dt.timedelta(minutes=minutes_before_now), mono=0.0,
                         boot_id="b", clock_synced=True, data=data)


@pytest.fixture
def hq(tmp_path: Path, backend: Backend) -> Iterator[tuple[SqliteEventStore, Path]]:
    events = SqliteEventStore(backend.migrated(tmp_path) / "events.db")
    org = OrgStore.sharing(events)
    org.author("branch", {"branch_id": "B1", "name": "B1", "tz": "Asia/Shanghai"})
    org.author("branch", {"branch_id": "B2", "name": "B2", "tz": "Asia/Shanghai"})
    org.author("hall", {"hall_id": "H1", "branch_id": "B1", "name": "H1"})
    org.author("hall", {"hall_id": "H2", "branch_id": "B2", "name": "H2"})
    for w, (unit, staff, leave) in WINDOWS.items():
        org.author("window", {"window_id": w, "hall_id": "H2" if w == "W6" else "H1",
                              "name": w})
        org.bind(unit, w)
        if staff:
            org.author("staff", {"staff_no": staff, "name": f"N{staff}",
                                 "home_branch_id": "B1"})
            org.author("shift", {"window_id": w, "staff_no": staff, "date": DAY.isoformat(),
                                 "start": "09:00", "end": "17:00"})
        if leave:
            org.author("leave", {"staff_no": staff, "kind": leave, "start": DAY.isoformat(),
                                 "end": DAY.isoformat()})
    yield events, tmp_path / "events.db"
    events.close()


def test_tiles_from_events_schedule_and_leave(hq: tuple[SqliteEventStore, Path]) -> None:
    events, db = hq
    events.ingest("u1", [_ev("u1", "login", 60, staff_id="S1", name="NS1", session_id="s"),
                         _ev("u1", "transaction_started", 2, txn_id="t1", staff_id="S1"),
                         _ev("u1", "rating", 30, txn_id="t0", outcome="rated", rating=4)])
    events.ingest("u2", [_ev("u2", "login", 60, staff_id="S2", name="NS2", session_id="s"),
                         _ev("u2", "absence_started", 9, absence_id="a1", staff_id="S2"),
                         _ev("u2", "alert_raised", 3, alert="off_seat", level=2,
                             absence_id="a1", away_s=360.0, staff_id="S2")])
    events.ingest("u6", [_ev("u6", "login", 60, staff_id="S6", name="NS6", session_id="s"),
                         _ev("u6", "counter_closed", 5)])
    conn = connect(db)  # a reader of its own, as a page or another worker has
    tiles = {t.window_id: t.tile for t in board(conn, Scope.everything(), NOW)}
    got = {w: (t.status, t.level, t.customer, t.last_rating, t.online)
           for w, t in tiles.items()}
    assert got == {
        "W1": ("staffed", 0, True, 4, True),
        "W2": ("off_seat", 2, False, None, True),
        "W3": ("business", 0, False, None, False),  # never heard from: offline
        "W4": ("leave", 0, False, None, False),
        "W5": ("not_scheduled", 0, False, None, False),
        "W6": ("closed", 0, False, None, True),
    }
    assert tiles["W2"].off_seat_since == NOW - dt.timedelta(minutes=9)
    assert tiles["W1"].txn_started == NOW - dt.timedelta(minutes=2)
    # At 18:00 local the shifts are over: an empty window is "not scheduled", and a
    # window with nobody logged in during its shift would be "unstaffed".
    later = {t.window_id: t.tile.status for t in board(conn, Scope.everything(),
                                                        NOW + dt.timedelta(hours=7))}
    assert later["W4"] == "not_scheduled"
    events.ingest("u1", [_ev("u1", "logout", 1, session_id="s")])
    assert board(conn, Scope.everything(), NOW, only=["W1"])[0].tile.status == "unstaffed"
    # Scope: branch B2 sees only W6.
    assert [t.window_id for t in board(conn, Scope("branch", "B2"), NOW)] == ["W6"]
    conn.close()


def test_change_counter_drives_the_feed(hq: tuple[SqliteEventStore, Path]) -> None:
    events, db = hq
    reader = connect(db)
    since = current_seq(reader)
    assert poll(reader, Scope.everything(), since, NOW, full=False) == (since, [])
    events.ingest("u2", [_ev("u2", "login", 1, staff_id="S2", name="NS2", session_id="s")])
    events.ingest("u6", [_ev("u6", "counter_closed", 1)])
    seq, tiles = poll(reader, Scope("branch", "B1"), since, NOW, full=False)
    assert seq > since and [t.window_id for t in tiles] == ["W2"]  # W6 is outside B1
    assert poll(reader, Scope("branch", "B1"), seq, NOW, full=False) == (seq, [])
    writer = connect(db)
    bump(writer, "W2")  # e.g. its alert acknowledged: re-sent with no event
    seq2, tiles = poll(reader, Scope.everything(), seq, NOW, full=False)
    assert seq2 == seq + 1 and [t.window_id for t in tiles] == ["W2"]
    _, every = poll(reader, Scope.everything(), seq2, NOW, full=True)
    assert len(every) == len(WINDOWS)
    reader.close()
    writer.close()
