"""The HQ the browser tests open: a real server on loopback HTTPS, seeded the real way.

Two branches (A in Shanghai, B in Urumqi, so two time zones), a hall each, windows whose
units enrolled with window-bound one-time codes; the tree, staff and today's shifts are
authored through HQ's organisation store; transactions, ratings and clips reach HQ over
mutual TLS through its ingest API, as a unit's sync process sends them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope

from .sim_unit import SimUnit

PASSWORD = "a long enough password 1"
# branch_id, name, tz, hall_id, hall name, [(window_id, window name, unit_id)]
TREE = [
    ("A", "浦东支行", "Asia/Shanghai", "A-H1", "一楼大厅",
     [("A-W1", "1号窗口", "unit-a1"), ("A-W2", "2号窗口", "unit-a2")]),
    ("B", "乌鲁木齐支行", "Asia/Urumqi", "B-H1", "营业厅",
     [("B-W1", "7号窗口", "unit-b1")]),
]
STAFF = [("S100", "王芳", "A", "A-W1"), ("S200", "李强", "A", "A-W2"),
         ("S300", "阿依古丽", "B", "B-W1")]
TRAFFIC = dt.timedelta(hours=2)  # how far back the simulated units' traffic begins
# role name in tests -> (username, role, scope)
USERS = {
    "admin": ("root", "admin", Scope.everything()),
    "manager_a": ("mgr-a", "branch_manager", Scope("branch", "A")),
    "auditor": ("aud", "auditor", Scope.everything()),
    "supervisor_b": ("sup-b", "hall_supervisor", Scope("hall", "B-H1")),
}


@dataclass
class Site:
    """The running HQ, its simulated units, and when the seeded traffic happened."""

    hq: EmbeddedHQ
    units: dict[str, SimUnit]
    now: dt.datetime

    @property
    def url(self) -> str:
        return self.hq.url

    def login(self, who: str) -> tuple[str, str]:
        """(username, password) of a seeded user."""
        return USERS[who][0], PASSWORD

    def db(self) -> sqlite3.Connection:
        """A connection of its own to HQ's database, for checks."""
        conn = sqlite3.connect(self.hq.root / "data" / "events.db", timeout=10)
        conn.row_factory = sqlite3.Row
        return conn


def seed_org(hq: EmbeddedHQ, now: dt.datetime) -> None:
    """The tree, staff and today's all-day shifts, authored through HQ's org store."""
    org = hq.deps.org
    for branch, bname, tz, hall, hname, windows in TREE:
        org.author("branch", {"branch_id": branch, "name": bname, "tz": tz})
        org.author("hall", {"hall_id": hall, "branch_id": branch, "name": hname})
        for wid, wname, _unit in windows:
            org.author("window", {"window_id": wid, "hall_id": hall, "name": wname})
    zones = {branch: tz for branch, _n, tz, *_rest in TREE}
    for staff_no, name, branch, window in STAFF:
        org.author("staff", {"staff_no": staff_no, "name": name, "home_branch_id": branch})
        # The traffic begins two hours back: a local day may have begun since (after
        # midnight in the branch's zone), so both days are shifts.
        zone = zoneinfo.ZoneInfo(zones[branch])
        for day in sorted({(now - TRAFFIC).astimezone(zone).date(), now.astimezone(zone).date()}):
            org.author("shift", {"window_id": window, "staff_no": staff_no,
                                 "date": day.isoformat(), "start": "00:00", "end": "23:59"})


def seed_users(hq: EmbeddedHQ) -> None:
    users = hq.deps.user_store()
    for username, role, scope in USERS.values():
        users.create_user(username, PASSWORD, role, scope=scope)


@contextmanager
def seeded_site(root: Path) -> Iterator[Site]:
    """HQ serving ``root`` with the tree above and two hours of traffic at each window."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with running_hq(root) as hq:
        seed_org(hq, now)
        seed_users(hq)
        units: dict[str, SimUnit] = {}
        for _branch, _b, _tz, _hall, _h, windows in TREE:
            for wid, _name, unit_id in windows:
                units[unit_id] = SimUnit.enroll(hq, unit_id, wid.lower(), root / "units", wid)
        a1, a2, b1 = units["unit-a1"], units["unit-a2"], units["unit-b1"]
        start = now - TRAFFIC
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
