"""A hand-made HQ for the reports' tests, with figures worked out by hand.

Branch B1 (Asia/Shanghai, UTC+8, no DST) has hall H1 with windows W1 (unit U1) and W2
(unit U2); branch B2 (UTC) has W3 (unit U3, one event with an unsynchronised clock) and
W4 (no unit bound). Times below are B1-local on 2026-03-02 ("d1") and 2026-03-03 ("d2").

Shifts: SH1 S1@W1 d1 09-12; SH2 S1@W2 d1 13-17; SH3 S2@W1 d1 12-18 (the shift change at
W1 at 12:00); SH4 S3@W2 d1 22:00 - d2 06:00 (across midnight); SH5 S2@W2 d2 09-12 (S2 on
leave all d2); SH6 S1@W1 d2 09-12 (S1 away on business d2 08-18); SH7 S3@W1 d2 13-17
(nobody comes). S1 is also away on business d1 15:55-16:10 (a quarter hour of SH2).

Sessions: S1@W1 d1 09:02-12:03; S1@W2 d1 13:10-17:00 (late); S2@W1 d1 12:04-17:30 (left
early); S3@W2 d1 22:00 - d2 06:00.

Transactions (start, handling s, rating): T1 S1@W1 09:20 62 s 5; T2 S1@W1 10:00 118 s 2
(its rating arrives late, in ``LATE``); T3 S1@W1 11:58 240 s 4 (spans the shift change,
stays with S1); T6 S2@W1 13:00 30 s 1 suspect (+ a dissatisfied alert); T7 S1@W2 14:00
75 s 3; T4 S3@W2 d1 23:59 180 s 5; T5 S3@W2 d2 00:30 40 s timed out; T8 S4@W3 (B2).

Off seat: A1 S1@W1 d1 10:30 240 s level 1 unexcused; A3 S2@W1 d1 15:01 600 s level 0
while W1 is closed 15:00-15:20; A4 S1@W2 d1 16:00 130 s level 1 away on business;
A2 S3@W2 d2 01:00 700 s level 3 unexcused. A key press with no customer on W2 (suspect).
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

from hq.org.authoring.bulk import author_many
from hq.org.authoring.store import OrgStore
from hq.storage.events import SqliteEventStore
from sync.schema import EventEnvelope

TZ8 = dt.timezone(dt.timedelta(hours=8))
D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)


def local(day: dt.date, hhmm: str, tz: dt.tzinfo = TZ8) -> dt.datetime:
    """A B1-local wall time as an aware datetime."""
    t = dt.time.fromisoformat(hhmm)
    return dt.datetime.combine(day, t, tz)


_n = 0


def ev(unit: str, type_: str, at: dt.datetime, synced: bool = True,
       **data: Any) -> EventEnvelope:
    """One unit event with a reproducible uuid."""
    global _n
    _n += 1
    return EventEnvelope(uuid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{unit}/{type_}/{at}/{_n}")),
                         type=type_, unit_id=unit, counter_id=f"c-{unit}",
                         utc=at.astimezone(dt.UTC), mono=at.timestamp(), boot_id="b",
                         clock_synced=synced, data=data)


def build_org(path: Path) -> None:
    """The org tree, staff, shifts and leave of the module docstring (through hq.org)."""
    recs: list[tuple[str, Any]] = [
        ("branch", {"branch_id": "B1", "name": "城东支行", "tz": "Asia/Shanghai"}),
        ("branch", {"branch_id": "B2", "name": "London", "tz": "UTC"}),
        ("hall", {"hall_id": "H1", "branch_id": "B1", "name": "一楼大厅"}),
        ("hall", {"hall_id": "H2", "branch_id": "B2", "name": "Hall 2"})]
    for wid, hall in (("W1", "H1"), ("W2", "H1"), ("W3", "H2"), ("W4", "H2")):
        recs.append(("window", {"window_id": wid, "hall_id": hall, "name": f"窗口{wid[1]}"}))
    bound = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for unit, wid in (("U1", "W1"), ("U2", "W2"), ("U3", "W3")):
        recs.append(("bind", (unit, wid, bound)))
    for no, name, home in (("S1", "张伟", "B1"), ("S2", "李娜", "B1"), ("S3", "王芳", "B1"),
                           ("S4", "Sam", "B2")):
        recs.append(("staff", {"staff_no": no, "name": name, "home_branch_id": home}))
    shifts = (("SH1", "W1", "S1", local(D1, "09:00"), local(D1, "12:00")),
              ("SH2", "W2", "S1", local(D1, "13:00"), local(D1, "17:00")),
              ("SH3", "W1", "S2", local(D1, "12:00"), local(D1, "18:00")),
              ("SH4", "W2", "S3", local(D1, "22:00"), local(D2, "06:00")),
              ("SH5", "W2", "S2", local(D2, "09:00"), local(D2, "12:00")),
              ("SH6", "W1", "S1", local(D2, "09:00"), local(D2, "12:00")),
              ("SH7", "W1", "S3", local(D2, "13:00"), local(D2, "17:00")))
    for sid, wid, staff, t0, t1 in shifts:
        recs.append(("shift_span", {"shift_id": sid, "window_id": wid, "staff_no": staff,
                                    "start_utc": t0, "end_utc": t1}))
    # Leave in the home branch's local time (B1, UTC+8).
    for lid, staff, kind, t0, t1 in (
            ("L1", "S2", "leave", local(D2, "00:00"), local(D2 + dt.timedelta(1), "00:00")),
            ("L2", "S1", "business", local(D2, "08:00"), local(D2, "18:00")),
            ("L3", "S1", "business", local(D1, "15:55"), local(D1, "16:10"))):
        recs.append(("leave", {"leave_id": lid, "staff_no": staff, "kind": kind,
                               "start": t0.replace(tzinfo=None),
                               "end": t1.replace(tzinfo=None)}))
    store = OrgStore(path)
    author_many(store, recs, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    store.close()


def _txn(unit: str, txn: str, staff: str, start: dt.datetime, dur: float,
         rating: int | None, suspect: bool = False) -> list[EventEnvelope]:
    sess = f"{unit}-{staff}"
    end = start + dt.timedelta(seconds=dur)
    out = [ev(unit, "transaction_started", start, txn_id=txn, staff_id=staff,
              session_id=sess, clip_id=txn),
           ev(unit, "transaction_ended", end, txn_id=txn, staff_id=staff, session_id=sess,
              duration_s=dur, reason="customer_left")]
    if rating is None:
        out.append(ev(unit, "rating", end + dt.timedelta(seconds=10), txn_id=txn,
                      staff_id=staff, outcome="timeout", rating=None, suspect=False))
    else:
        out.append(ev(unit, "rating", end + dt.timedelta(seconds=3), txn_id=txn,
                      staff_id=staff, outcome="rated", rating=rating, key=rating,
                      suspect=suspect))
    return out


def _session(unit: str, staff: str, t0: dt.datetime, t1: dt.datetime) -> list[EventEnvelope]:
    sess = f"{unit}-{staff}"
    return [ev(unit, "login", t0, staff_id=staff, session_id=sess, staff_number=staff,
               name=staff),
            ev(unit, "logout", t1, staff_id=staff, session_id=sess, reason="tap",
               duration_s=(t1 - t0).total_seconds())]


def _absence(unit: str, aid: str, staff: str, t0: dt.datetime, dur: float, level: int,
             counter_open: bool = True) -> list[EventEnvelope]:
    out = [ev(unit, "absence_started", t0, staff_id=staff, absence_id=aid, clip_id=None,
              counter_open=counter_open)]
    limits = (120, 300, 600)
    for lv in range(1, level + 1):
        out.append(ev(unit, "alert_raised", t0 + dt.timedelta(seconds=limits[lv - 1]),
                      staff_id=staff, alert="off_seat", level=lv, absence_id=aid))
    out.append(ev(unit, "absence_ended", t0 + dt.timedelta(seconds=dur), staff_id=staff,
                  absence_id=aid, duration_s=dur, max_level=level))
    return out


def events() -> dict[str, list[EventEnvelope]]:
    """Unit -> its events (all but ``LATE``)."""
    u1 = [*_session("U1", "S1", local(D1, "09:02"), local(D1, "12:03")),
          *_session("U1", "S2", local(D1, "12:04"), local(D1, "17:30")),
          *_txn("U1", "T1", "S1", local(D1, "09:20"), 62, 5),
          *_txn("U1", "T2", "S1", local(D1, "10:00"), 118, 2)[:2],
          *_txn("U1", "T3", "S1", local(D1, "11:58"), 240, 4),
          *_txn("U1", "T6", "S2", local(D1, "13:00"), 30, 1, suspect=True),
          ev("U1", "alert_raised", local(D1, "13:00:33"), alert="dissatisfied", level=1,
             txn_id="T6", staff_id="S2", rating=1, suspect=True),
          *_absence("U1", "A1", "S1", local(D1, "10:30"), 240, 1),
          ev("U1", "counter_closed", local(D1, "15:00")),
          *_absence("U1", "A3", "S2", local(D1, "15:01"), 600, 0, counter_open=False),
          ev("U1", "counter_opened", local(D1, "15:20"))]
    u2 = [*_session("U2", "S1", local(D1, "13:10"), local(D1, "17:00")),
          *_session("U2", "S3", local(D1, "22:00"), local(D2, "06:00")),
          *_txn("U2", "T7", "S1", local(D1, "14:00"), 75, 3),
          *_txn("U2", "T4", "S3", local(D1, "23:59"), 180, 5),
          *_txn("U2", "T5", "S3", local(D2, "00:30"), 40, None),
          *_absence("U2", "A4", "S1", local(D1, "16:00"), 130, 1),
          *_absence("U2", "A2", "S3", local(D2, "01:00"), 700, 3),
          ev("U2", "key_ignored", local(D1, "20:00"), key=3, seq=1, suspect=True,
             reason="no_prompt", txn_id=None)]
    u3 = [*_txn("U3", "T8", "S4", dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), 50, 4),
          ev("U3", "counter_opened", dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), synced=False)]
    return {"U1": u1, "U2": u2, "U3": u3}


def late() -> list[EventEnvelope]:
    """T2's rating, which reaches HQ after the first report was read."""
    return _txn("U1", "T2", "S1", local(D1, "10:00"), 118, 2)[2:]


def build(data: Path, with_late: bool = True) -> Path:
    """An HQ data folder holding the fixture; returns the events.db path."""
    path = data / "events.db"
    store = SqliteEventStore(path)
    build_org(path)
    for unit, evs in events().items():
        store.ingest(unit, evs)
    if with_late:
        store.ingest("U1", late())
    store.close()
    return path
