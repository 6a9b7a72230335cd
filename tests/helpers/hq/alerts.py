"""Shared pieces of the alert tests: unit events, an organisation, a store."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from typing import Any

from sync.schema import EventEnvelope

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday, 17:00 in Asia/Shanghai


def ev(type_: str, data: dict[str, Any], *, unit: str = "unit-a", minute: float = 0.0,
       t0: dt.datetime = T0) -> EventEnvelope:
    """A unit event ``minute`` minutes after ``t0``."""
    return EventEnvelope(uuid=uuid.uuid4().hex, type=type_, unit_id=unit, counter_id="c1",
                         utc=t0 + dt.timedelta(minutes=minute), mono=minute * 60,
                         boot_id="b", clock_synced=True, data=data)


def off_seat(level: int, absence: str = "a1", *, minute: float = 0.0, unit: str = "unit-a",
             staff: str | None = "S001") -> EventEnvelope:
    """The unit's ``alert_raised`` for an off-seat episode, as firmware/machine/step.py."""
    return ev("alert_raised", {"staff_id": staff, "session_id": "sess", "alert": "off_seat",
                               "level": level, "absence_id": absence, "away_s": 60.0 * level},
              unit=unit, minute=minute)


def cleared(absence: str = "a1", level: int = 1, *, minute: float = 0.0,
            unit: str = "unit-a") -> EventEnvelope:
    return ev("alert_cleared", {"alert": "off_seat", "absence_id": absence, "level": level},
              unit=unit, minute=minute)


def seed_org(conn: sqlite3.Connection) -> None:
    """Branch B1 (Shanghai) with halls H1 (windows W1, W2) and H2 (W3); units bound."""
    conn.executescript("""
        INSERT INTO org_branches VALUES ('B1', 'Nanjing Road', 'Asia/Shanghai');
        INSERT INTO org_branches VALUES ('B2', 'Pudong', 'Asia/Shanghai');
        INSERT INTO org_halls VALUES ('H1', 'B1', 'Main hall');
        INSERT INTO org_halls VALUES ('H2', 'B1', 'VIP hall');
        INSERT INTO org_halls VALUES ('H3', 'B2', 'Hall');
        INSERT INTO org_windows VALUES ('W1', 'H1', 'Window 1');
        INSERT INTO org_windows VALUES ('W2', 'H1', 'Window 2');
        INSERT INTO org_windows VALUES ('W3', 'H2', 'VIP 1');
        INSERT INTO org_windows VALUES ('W4', 'H3', 'Pudong 1');
        INSERT INTO org_unit_windows VALUES ('unit-a', 'W1', '2026-01-01T00:00:00.000000Z');
        INSERT INTO org_unit_windows VALUES ('unit-b', 'W3', '2026-01-01T00:00:00.000000Z');
        INSERT INTO org_unit_windows VALUES ('unit-c', 'W4', '2026-01-01T00:00:00.000000Z');
        INSERT INTO org_staff (staff_no, name, home_branch_id) VALUES ('S001', 'Li Wei', 'B1');
    """)
