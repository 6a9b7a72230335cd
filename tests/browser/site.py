"""The HQ the browser tests open: a real server on loopback HTTPS, seeded the real way.

Two branches (A in Shanghai, B in Urumqi, so two time zones), a hall each, windows bound
to simulated units that enrolled with one-time codes; transactions, ratings and clips
reach HQ over mutual TLS through its ingest API, as a unit's sync process sends them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hq.embedded import EmbeddedHQ, running_hq

from .sim_unit import SimUnit

PASSWORD = "a long enough password 1"
# branch_id, name, tz, hall_id, hall name, [(window_id, window name, unit_id)]
TREE = [
    ("A", "浦东支行", "Asia/Shanghai", "A-H1", "一楼大厅",
     [("A-W1", "1号窗口", "unit-a1"), ("A-W2", "2号窗口", "unit-a2")]),
    ("B", "乌鲁木齐支行", "Asia/Urumqi", "B-H1", "营业厅",
     [("B-W1", "1号窗口", "unit-b1")]),
]
STAFF = [("S100", "王芳", "A"), ("S200", "李强", "A"), ("S300", "阿依古丽", "B")]


@dataclass
class Site:
    """The running HQ, its simulated units and what was sent (to compare with)."""

    hq: EmbeddedHQ
    units: dict[str, SimUnit]
    now: dt.datetime
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (user, pw)

    @property
    def url(self) -> str:
        return self.hq.url

    def db(self) -> sqlite3.Connection:
        """A connection of its own to HQ's database (for checks, never for seeding rows
        the ingest path makes)."""
        conn = sqlite3.connect(self.hq.root / "data" / "events.db", timeout=10)
        conn.row_factory = sqlite3.Row
        return conn


def seed_org(db: Path, now: dt.datetime) -> None:
    """The organisation tree, staff and today's shifts, written to HQ's org tables."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        with conn:
            for branch, bname, tz, hall, hname, windows in TREE:
                conn.execute("INSERT INTO org_branches VALUES (?, ?, ?)", [branch, bname, tz])
                conn.execute("INSERT INTO org_halls VALUES (?, ?, ?)", [hall, branch, hname])
                for wid, wname, unit in windows:
                    conn.execute("INSERT INTO org_windows VALUES (?, ?, ?)", [wid, hall, wname])
                    conn.execute("INSERT INTO org_unit_windows VALUES (?, ?, ?)",
                                 [unit, wid, "2026-01-01T00:00:00.000000Z"])
            for staff_no, name, branch in STAFF:
                conn.execute("INSERT INTO org_staff (staff_no, name, home_branch_id) "
                             "VALUES (?, ?, ?)", [staff_no, name, branch])
            day = now.replace(hour=0, minute=0, second=0, microsecond=0)
            for i, (wid, staff_no) in enumerate((("A-W1", "S100"), ("A-W2", "S200"),
                                                 ("B-W1", "S300"))):
                conn.execute("INSERT INTO org_shifts VALUES (?, ?, ?, ?, ?)",
                             [f"sh{i}", wid, staff_no, _utc(day), _utc(day + dt.timedelta(days=1))])
    finally:
        conn.close()


def _utc(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def seeded_site(root: Path) -> Iterator[Site]:
    """HQ serving ``root`` with the tree above and a morning of traffic at each window."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with running_hq(root) as hq:
        seed_org(hq.root / "data" / "events.db", now)
        units: dict[str, SimUnit] = {}
        for _branch, _b, _tz, _hall, _h, windows in TREE:
            for wid, _name, unit_id in windows:
                units[unit_id] = SimUnit.enroll(hq, unit_id, wid.lower(), root / "units")
        a1, a2, b1 = units["unit-a1"], units["unit-a2"], units["unit-b1"]
        start = now - dt.timedelta(hours=2)
        a1.send("login", start, staff_id="S100", staff_number="S100", name="王芳",
                session_id="sa1")
        a1.transaction("a1-t1", start + dt.timedelta(minutes=5), "S100", rating=5, clip=True)
        a1.transaction("a1-t2", start + dt.timedelta(minutes=15), "S100", rating=2,
                       minutes=8.0)
        a2.transaction("a2-t1", start + dt.timedelta(minutes=20), "S200", rating=None)
        b1.send("login", start, staff_id="S300", staff_number="S300", name="阿依古丽",
                session_id="sb1")
        b1.transaction("b1-t1", start + dt.timedelta(minutes=7), "S300", rating=4, clip=True)
        try:
            yield Site(hq, units, now)
        finally:
            for unit in units.values():
                unit.client.close()
