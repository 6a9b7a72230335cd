"""Authoring the organisation: every write validated, checked against the tree, stored and
followed by new config versions, all in one transaction of HQ's events.db.

The store opens its own connection to the events database (WAL: it never blocks ingest's
readers; writers queue on SQLite's lock). Reads for people are in :mod:`hq.org.records.queries`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Collection, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from firmware.config.items import counter_problems
from hq.clock import utc_now
from hq.org.config.versions import ConfigVersion, refresh, served_document
from hq.org.records.authority import check_delete, check_write
from hq.org.records.errors import OrgConflict, OrgInvalid, OrgNotFound
from hq.org.records.models import (
    DEFAULT_TZ,
    BranchIn,
    HallIn,
    LeaveIn,
    RulesIn,
    SettingsIn,
    ShiftIn,
    StaffIn,
    WeeklyShiftIn,
    WindowIn,
    ZoneIn,
    check,
    zone_of,
)
from hq.org.schedules.periods import PeriodIn, ensure_periods, write_period
from hq.org.schedules.shifts import dated_span, expand_weekly, local_to_utc, template_shift_prefix
from hq.storage import org_schema
from hq.storage.models import utc_text
from hq.storage.org_schema import STAFF_CONTACT_COLUMNS
from hq.storage.scope import Scope
from hq.storage.sqlite import SqliteFile


def exists(conn: sqlite3.Connection, table: str, column: str, value: str | None) -> bool:
    # table and column are fixed names from this module, never user text.
    return value is not None and conn.execute(
        f"SELECT 1 FROM {table} WHERE {column} = ?", [value]).fetchone() is not None


def need(conn: sqlite3.Connection, problems: list[str], field: str, what: str, table: str,
         column: str, value: str | None) -> None:
    """Add ``field: no <what> <value>`` when ``value`` is given but not stored."""
    if value is not None and not exists(conn, table, column, value):
        problems.append(f"{field}: no {what} {value!r} (author it first)")


def branch_tz(conn: sqlite3.Connection, branch_id: str | None) -> ZoneInfo:
    row = None if branch_id is None else conn.execute(
        "SELECT tz FROM org_branches WHERE branch_id = ?", [branch_id]).fetchone()
    return zone_of(row[0] if row else DEFAULT_TZ)


def window_tz(conn: sqlite3.Connection, window_id: str) -> ZoneInfo:
    row = conn.execute("SELECT h.branch_id FROM org_windows w JOIN org_halls h "
                       "ON h.hall_id = w.hall_id WHERE w.window_id = ?", [window_id]).fetchone()
    return branch_tz(conn, row[0] if row else None)


def _raise(problems: list[str]) -> None:
    if problems:
        raise OrgInvalid(problems)


# Each writer below takes the transaction's connection, so imports can run many in one.

def write_branch(conn: sqlite3.Connection, b: BranchIn) -> None:
    conn.execute("INSERT INTO org_branches (branch_id, name, tz) VALUES (?, ?, ?) "
                 "ON CONFLICT (branch_id) DO UPDATE SET name = excluded.name, tz = excluded.tz",
                 [b.branch_id, b.name, b.tz])


def write_hall(conn: sqlite3.Connection, h: HallIn) -> None:
    problems: list[str] = []
    need(conn, problems, "branch_id", "branch", "org_branches", "branch_id", h.branch_id)
    _raise(problems)
    conn.execute("INSERT INTO org_halls (hall_id, branch_id, name) VALUES (?, ?, ?) "
                 "ON CONFLICT (hall_id) DO UPDATE SET branch_id = excluded.branch_id, "
                 "name = excluded.name", [h.hall_id, h.branch_id, h.name])


def write_window(conn: sqlite3.Connection, w: WindowIn) -> None:
    problems: list[str] = []
    need(conn, problems, "hall_id", "hall", "org_halls", "hall_id", w.hall_id)
    _raise(problems)
    conn.execute("INSERT INTO org_windows (window_id, hall_id, name) VALUES (?, ?, ?) "
                 "ON CONFLICT (window_id) DO UPDATE SET hall_id = excluded.hall_id, "
                 "name = excluded.name", [w.window_id, w.hall_id, w.name])


_STAFF_COLUMNS = ("name", "home_branch_id", "badge_uid", "photo_id", "active", "phone",
                  "email", "im_id")


def write_staff(conn: sqlite3.Connection, s: StaffIn, keep: Collection[str] = ()) -> None:
    """Add or replace a staff member; ``keep``: contact columns (phone, email, im_id) an
    existing record keeps as stored (an import file without those columns)."""
    problems: list[str] = []
    need(conn, problems, "home_branch_id", "branch", "org_branches", "branch_id",
         s.home_branch_id)
    if s.badge_uid is not None:
        other = conn.execute("SELECT staff_no FROM org_staff WHERE badge_uid = ? AND "
                             "staff_no != ? AND active = 1", [s.badge_uid, s.staff_no]).fetchone()
        if other is not None:
            problems.append(f"badge_uid: badge {s.badge_uid} already belongs to staff "
                            f"{other[0]} (one badge, one person)")
    _raise(problems)
    kept = set(keep) & set(STAFF_CONTACT_COLUMNS)
    # Column names come from the tuples above, never from user text.
    updates = ", ".join(f"{c} = excluded.{c}" for c in _STAFF_COLUMNS if c not in kept)
    conn.execute("INSERT INTO org_staff (staff_no, name, home_branch_id, badge_uid, photo_id, "
                 "active, phone, email, im_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                 f"ON CONFLICT (staff_no) DO UPDATE SET {updates}",
                 [s.staff_no, s.name, s.home_branch_id, s.badge_uid, s.photo_id, int(s.active),
                  s.phone, s.email, s.im_id])


def shift_refs(conn: sqlite3.Connection, window_id: str, staff_no: str) -> None:
    problems: list[str] = []
    need(conn, problems, "window_id", "window", "org_windows", "window_id", window_id)
    need(conn, problems, "staff_no", "staff member", "org_staff", "staff_no", staff_no)
    _raise(problems)


def write_shift(conn: sqlite3.Connection, s: ShiftIn) -> str:
    """A dated shift; its id defaults to window:staff:date:start (re-importing replaces it)."""
    shift_refs(conn, s.window_id, s.staff_no)
    start, end = dated_span(s.date, s.start, s.end, window_tz(conn, s.window_id))
    shift_id = s.shift_id or f"d:{s.window_id}:{s.staff_no}:{s.date}:{s.start:%H%M}"
    conn.execute("INSERT INTO org_shifts (shift_id, window_id, staff_no, start_utc, end_utc) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (shift_id) DO UPDATE SET "
                 "window_id = excluded.window_id, staff_no = excluded.staff_no, "
                 "start_utc = excluded.start_utc, end_utc = excluded.end_utc",
                 [shift_id, s.window_id, s.staff_no, utc_text(start), utc_text(end)])
    return shift_id


def _drop_instances(conn: sqlite3.Connection, template_id: str) -> None:
    prefix = template_shift_prefix(template_id)
    # ';' sorts right after ':', so this range is exactly the ids with the prefix.
    conn.execute("DELETE FROM org_shifts WHERE shift_id >= ? AND shift_id < ?",
                 [prefix, prefix[:-1] + ";"])


def write_template(conn: sqlite3.Connection, t: WeeklyShiftIn) -> str:
    """A weekly template and its dated instances (replacing the ones it had)."""
    shift_refs(conn, t.window_id, t.staff_no)
    template_id = t.template_id or (f"{t.window_id}.{t.staff_no}.{''.join(d[:2] for d in t.days)}"
                                    f".{t.start:%H%M}")
    conn.execute("INSERT INTO org_shift_templates (template_id, window_id, staff_no, days, "
                 "start_local, end_local, valid_from, valid_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (template_id) DO UPDATE SET window_id = excluded.window_id, "
                 "staff_no = excluded.staff_no, days = excluded.days, "
                 "start_local = excluded.start_local, end_local = excluded.end_local, "
                 "valid_from = excluded.valid_from, valid_to = excluded.valid_to",
                 [template_id, t.window_id, t.staff_no, ",".join(t.days), f"{t.start:%H:%M}",
                  f"{t.end:%H:%M}", t.valid_from.isoformat(), t.valid_to.isoformat()])
    _drop_instances(conn, template_id)
    prefix = template_shift_prefix(template_id)
    conn.executemany(
        "INSERT INTO org_shifts (shift_id, window_id, staff_no, start_utc, end_utc) "
        "VALUES (?, ?, ?, ?, ?)",
        [(f"{prefix}{i.day}", t.window_id, t.staff_no, utc_text(i.start_utc),
          utc_text(i.end_utc))
         for i in expand_weekly(t.days, t.start, t.end, t.valid_from, t.valid_to,
                                window_tz(conn, t.window_id))])
    return template_id


def write_leave(conn: sqlite3.Connection, leave: LeaveIn) -> str:
    problems: list[str] = []
    need(conn, problems, "staff_no", "staff member", "org_staff", "staff_no", leave.staff_no)
    _raise(problems)
    home = conn.execute("SELECT home_branch_id FROM org_staff WHERE staff_no = ?",
                        [leave.staff_no]).fetchone()[0]
    tz = branch_tz(conn, home)
    start, end = (local_to_utc(t, tz) for t in leave.local_span())
    leave_id = leave.leave_id or f"{leave.staff_no}:{leave.kind}:{start:%Y%m%dT%H%M}"
    conn.execute("INSERT INTO org_leave (leave_id, staff_no, kind, start_utc, end_utc, note) "
                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (leave_id) DO UPDATE SET "
                 "staff_no = excluded.staff_no, kind = excluded.kind, "
                 "start_utc = excluded.start_utc, end_utc = excluded.end_utc, "
                 "note = excluded.note",
                 [leave_id, leave.staff_no, leave.kind, utc_text(start), utc_text(end),
                  leave.note])
    return leave_id


_NODE_TABLES = {"branch": ("org_branches", "branch_id"), "hall": ("org_halls", "hall_id"),
                "window": ("org_windows", "window_id")}


def write_rules(conn: sqlite3.Connection, r: RulesIn) -> str:
    if r.level != "org":
        table, column = _NODE_TABLES[r.level]
        problems: list[str] = []
        need(conn, problems, "node_id", r.level, table, column, r.node_id)
        _raise(problems)
    conn.execute("INSERT OR REPLACE INTO org_rules (level, node_id, rating_window_s, "
                 "off_seat_l1_s, off_seat_l2_s, off_seat_l3_s, min_transaction_s) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [r.level, r.node_id, r.rating_window_s, r.off_seat_l1_s, r.off_seat_l2_s,
                  r.off_seat_l3_s, r.min_transaction_s])
    return f"{r.level}:{r.node_id}" if r.node_id else r.level


def write_zone(conn: sqlite3.Connection, z: ZoneIn) -> None:
    problems: list[str] = []
    need(conn, problems, "window_id", "window", "org_windows", "window_id", z.window_id)
    _raise(problems)
    conn.execute("INSERT OR REPLACE INTO org_zones (window_id, name, x0, y0, x1, y1, "
                 "enter_dwell_s, exit_hold_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 [z.window_id, z.name, z.x0, z.y0, z.x1, z.y1, z.enter_dwell_s, z.exit_hold_s])
    _raise(counter_rules(conn, z.window_id, z.name))


def counter_rules(conn: sqlite3.Connection, window_id: str, written: str) -> list[str]:
    """The unit's counter-zone rules (firmware/config/items.py) over the window's zones as
    stored, each problem naming the zone just written and the window; [] when fine."""
    zones = {r["name"]: SimpleNamespace(**{k: r[k] for k in ("x0", "y0", "x1", "y1")})
             for r in conn.execute("SELECT * FROM org_zones WHERE window_id = ?", [window_id])}
    return [f"zone {written} of window {window_id}: {p}" for p in counter_problems(zones)]


def write_settings(conn: sqlite3.Connection, s: SettingsIn) -> None:
    conn.execute("INSERT OR REPLACE INTO org_settings (key, value) VALUES ('badge_uid_salt', ?)",
                 [s.badge_uid_salt])


def bind_unit(conn: sqlite3.Connection, unit_id: str, window_id: str, now: dt.datetime) -> None:
    """File ``unit_id``'s events under ``window_id`` from now on (moves a bound unit)."""
    problems: list[str] = []
    need(conn, problems, "window_id", "window", "org_windows", "window_id", window_id)
    _raise(problems)
    conn.execute("INSERT INTO org_unit_windows (unit_id, window_id, bound_utc) VALUES (?, ?, ?) "
                 "ON CONFLICT (unit_id) DO UPDATE SET window_id = excluded.window_id, "
                 "bound_utc = excluded.bound_utc", [unit_id, window_id, utc_text(now)])


_DELETES = {
    "branch": "DELETE FROM org_branches WHERE branch_id = ?",
    "hall": "DELETE FROM org_halls WHERE hall_id = ?",
    "window": "DELETE FROM org_windows WHERE window_id = ?",
    "shift": "DELETE FROM org_shifts WHERE shift_id = ?",
    "template": "DELETE FROM org_shift_templates WHERE template_id = ?",
    "leave": "DELETE FROM org_leave WHERE leave_id = ?",
    "unit": "DELETE FROM org_unit_windows WHERE unit_id = ?",
    "period": "DELETE FROM org_window_periods WHERE period_id = ?",
}


class OrgStore(SqliteFile):
    """Authoring over HQ's events database; each method is one transaction."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, org_schema.ORG_SCHEMA)
        with self._lock:  # an older events.db gains the staff contact columns
            org_schema.add_staff_contact(self._conn)
            ensure_periods(self._conn)

    @classmethod
    def sharing(cls, db: SqliteFile) -> OrgStore:
        """The store over an open events database's own connection and lock (HQ's API uses
        this, so authoring and ingest queue on one lock and one file); close ``db``, not it."""
        store = cls.__new__(cls)
        store._conn, store._lock = db._conn, db._lock
        with store._lock:  # the events store has a schema of its own; make sure of ours
            org_schema.ensure(store._conn)
            ensure_periods(store._conn)
        return store

    def served_config(self, unit_id: str) -> bytes | None:
        """The config document the unit pulls (see :func:`served_document`)."""
        with self.reading() as conn:
            return served_document(conn, unit_id)

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (the shared helper)."""
        return self.writing()

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads (one consistent snapshot per statement)."""
        with self._lock:
            yield self._conn

    def author(self, kind: str, data: Any, now: dt.datetime | None = None,
               scope: Scope | None = None) -> tuple[str, list[ConfigVersion]]:
        """Validate and store one ``kind`` record, then new config versions; returns its id.

        kind: branch, hall, window, staff, shift, template, leave, rules, zone, settings,
        period (a planned closed/away period, hq.org.schedules.periods).
        ``scope``: the author's (default all); OrgForbidden outside it (hq.org.records.authority).
        """
        model, writer, key = AUTHORING[kind]
        item = check(model, data, _named(kind, data))
        with self.transaction() as conn:
            check_write(conn, kind, item, scope or Scope.everything())
            made = writer(conn, item)
            versions = refresh(conn, utc_now(now))
        ident = made if made is not None else getattr(item, key) if key else kind
        return str(ident), versions

    def delete(self, kind: str, ident: str, now: dt.datetime | None = None,
               scope: Scope | None = None) -> list[ConfigVersion]:
        """Remove one record; OrgNotFound if absent, OrgConflict if something still uses it."""
        if kind not in _DELETES:
            raise OrgNotFound(f"nothing of kind {kind!r} can be deleted")
        try:
            with self.transaction() as conn:
                check_delete(conn, kind, ident, scope or Scope.everything())
                if kind == "template":
                    _drop_instances(conn, ident)
                if conn.execute(_DELETES[kind], [ident]).rowcount == 0:
                    raise OrgNotFound(f"no {kind} {ident!r}")
                return refresh(conn, utc_now(now))
        except sqlite3.IntegrityError:
            raise OrgConflict(f"{kind} {ident!r} is still in use (halls, windows, staff, "
                              "shifts or units refer to it); move or remove those first"
                              ) from None

    def bind(self, unit_id: str, window_id: str, now: dt.datetime | None = None) -> None:
        """Bind a unit to a window (see :func:`bind_unit`)."""
        with self.transaction() as conn:
            bind_unit(conn, unit_id, window_id, utc_now(now))


def _named(kind: str, data: Any) -> str:
    """Zone problems name the zone (a counter zone outside the frame: 'zone counter: x1: ...')."""
    if kind == "zone" and isinstance(data, dict) and data.get("name"):
        return f"zone {str(data['name'])[:64]}: "
    return ""


AUTHORING: dict[str, tuple[type[Any], Any, str]] = {
    "branch": (BranchIn, write_branch, "branch_id"),
    "hall": (HallIn, write_hall, "hall_id"),
    "window": (WindowIn, write_window, "window_id"),
    "staff": (StaffIn, write_staff, "staff_no"),
    "shift": (ShiftIn, write_shift, "shift_id"),
    "template": (WeeklyShiftIn, write_template, "template_id"),
    "leave": (LeaveIn, write_leave, "leave_id"),
    "rules": (RulesIn, write_rules, ""),
    "zone": (ZoneIn, write_zone, "name"),
    "settings": (SettingsIn, write_settings, ""),
    "period": (PeriodIn, write_period, "period_id"),
}

