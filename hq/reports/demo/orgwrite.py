"""Writing organisation rows directly (fixtures and seed-demo).

A stand-in until helper "org"'s ``hq.org`` functions are merged: each function inserts
one row into the ``org_*`` tables of :mod:`hq.storage.org_schema`, in the caller's
transaction, and nothing else. Replace calls with ``hq.org`` once it exists.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.storage.models import utc_text


def add_branch(conn: sqlite3.Connection, branch_id: str, name: str, tz: str) -> None:
    """A branch and its IANA time zone."""
    conn.execute("INSERT INTO org_branches (branch_id, name, tz) VALUES (?, ?, ?)",
                 [branch_id, name, tz])


def add_hall(conn: sqlite3.Connection, hall_id: str, branch_id: str, name: str) -> None:
    """A service hall of a branch."""
    conn.execute("INSERT INTO org_halls (hall_id, branch_id, name) VALUES (?, ?, ?)",
                 [hall_id, branch_id, name])


def add_window(conn: sqlite3.Connection, window_id: str, hall_id: str, name: str) -> None:
    """A counter window of a hall."""
    conn.execute("INSERT INTO org_windows (window_id, hall_id, name) VALUES (?, ?, ?)",
                 [window_id, hall_id, name])


def bind_unit(conn: sqlite3.Connection, unit_id: str, window_id: str,
              at: dt.datetime) -> None:
    """File a unit's events under ``window_id`` from now on."""
    conn.execute("INSERT INTO org_unit_windows (unit_id, window_id, bound_utc) VALUES (?, ?, ?)"
                 " ON CONFLICT (unit_id) DO UPDATE SET window_id = excluded.window_id, "
                 "bound_utc = excluded.bound_utc", [unit_id, window_id, utc_text(at)])


def add_staff(conn: sqlite3.Connection, staff_no: str, name: str,
              home_branch_id: str | None) -> None:
    """A staff member (staff number == the unit events' ``staff_id``)."""
    conn.execute("INSERT INTO org_staff (staff_no, name, home_branch_id) VALUES (?, ?, ?)",
                 [staff_no, name, home_branch_id])


def add_shift(conn: sqlite3.Connection, shift_id: str, window_id: str, staff_no: str,
              start: dt.datetime, end: dt.datetime) -> None:
    """One dated shift instance."""
    conn.execute("INSERT INTO org_shifts (shift_id, window_id, staff_no, start_utc, end_utc) "
                 "VALUES (?, ?, ?, ?, ?)",
                 [shift_id, window_id, staff_no, utc_text(start), utc_text(end)])


def add_leave(conn: sqlite3.Connection, leave_id: str, staff_no: str, kind: str,
              start: dt.datetime, end: dt.datetime, note: str = "") -> None:
    """Leave (``leave``) or away on business (``business``)."""
    conn.execute("INSERT INTO org_leave (leave_id, staff_no, kind, start_utc, end_utc, note) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 [leave_id, staff_no, kind, utc_text(start), utc_text(end), note])
