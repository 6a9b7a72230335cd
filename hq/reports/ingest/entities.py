"""What each entity adds to the rollups, computed from its current rows.

Metric names (all per local day × window × staff member):

- transactions: ``txn`` count; ``dur_n``/``dur_sum`` and histogram bins ``h<bin>``
  (see :mod:`hq.reports.figures.hist`); ``rated``, ``r<1..5>`` (by rating), ``suspect``
  (rated with no customer seen), ``rated_ok`` (rated, not suspect), ``satisfied``
  (``rated_ok`` with a rating >= :data:`SATISFIED_AT`), ``unrated``. A transaction is
  counted on the local day it started, under the staff member who served it at start
  (a transaction spanning a shift change stays with whoever began it).
- off-seat episodes: ``os_n``/``os_s``, by level ``os_n_l<L>``/``os_s_l<L>`` (highest
  alert level reached), by excuse ``os_n_<why>``/``os_s_<why>`` with ``why`` one of
  ``closed`` (window temporarily closed), ``leave``, ``business``, ``unexcused``;
  counted on the day the episode began.
- staff sessions (login to logout): ``session_s`` split across local days.
- closures (counter closed until the next open/close mark): ``closed_s`` split by day.
- scheduled shifts: ``shift_n``, ``present_n``, ``late_n``, ``early_n``, ``leave_n``,
  ``business_n`` on the shift's start day; ``sched_s``, ``business_s``, ``leave_s``
  split by day. Absent = shift_n - present_n - leave_n - business_n.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.reports.figures.hist import bin_of
from hq.reports.figures.periods import local_day, split_by_day
from hq.reports.tables import wstates
from hq.reports.tables.rollup import Contribution, add

SATISFIED_AT = 4
ATTENDANCE_GRACE_S = 300.0
LEAVE_SHARE = 0.5


_ZONES: dict[tuple[int, str], str] = {}


def parse_utc(text: str) -> dt.datetime:
    """:func:`hq.storage.models.parse_utc`, faster (it runs several times per event)."""
    return dt.datetime.fromisoformat(text)


def forget_zones() -> None:
    """Drop the cached window zones (after a branch's time zone is changed)."""
    _ZONES.clear()


def window_tz(conn: sqlite3.Connection, window_id: str) -> str:
    """The IANA zone of the branch a window belongs to (UTC if it is not in the org).

    Cached per connection: a branch's zone is set when it is made and changes, if ever,
    through the org pages, which call :func:`forget_zones`.
    """
    cached = _ZONES.get((id(conn), window_id))
    if cached is not None:
        return cached
    row = conn.execute(
        "SELECT b.tz FROM org_windows w JOIN org_halls h ON h.hall_id = w.hall_id "
        "JOIN org_branches b ON b.branch_id = h.branch_id WHERE w.window_id = ?",
        [window_id]).fetchone()
    if row is None:
        return "UTC"
    if len(_ZONES) > 100_000:
        _ZONES.clear()
    _ZONES[(id(conn), window_id)] = str(row[0])
    return str(row[0])


def leave_at(conn: sqlite3.Connection, staff_no: str | None, utc: str) -> str | None:
    """``leave``/``business`` if the staff member is away then (business wins), else None."""
    if not staff_no:
        return None
    rows = conn.execute("SELECT kind FROM org_leave WHERE staff_no = ? AND start_utc <= ? "
                        "AND end_utc > ?", [staff_no, utc, utc]).fetchall()
    kinds = {r[0] for r in rows}
    return "business" if "business" in kinds else ("leave" if kinds else None)


def _utc(text: str | None) -> dt.datetime | None:
    return parse_utc(text) if text else None


def transaction(conn: sqlite3.Connection, unit_id: str, txn_id: str) -> Contribution:
    """A transaction's count, handling time and rating."""
    c: Contribution = {}
    t = conn.execute("SELECT * FROM transactions WHERE unit_id = ? AND txn_id = ?",
                     [unit_id, txn_id]).fetchone()
    if t is None or t["window_id"] is None:
        return c
    when = _utc(t["started_utc"])
    if when is None:
        ended = _utc(t["ended_utc"])
        if ended is None:
            return c  # only a rating so far: counted when the transaction itself arrives
        when = ended - dt.timedelta(seconds=t["duration_s"] or 0.0)
    w, staff = t["window_id"], t["staff_id"]
    day = local_day(when, window_tz(conn, w))
    add(c, day, w, staff, "txn")
    if t["duration_s"] is not None:
        add(c, day, w, staff, "dur_n")
        add(c, day, w, staff, "dur_sum", float(t["duration_s"]))
        add(c, day, w, staff, f"h{bin_of(float(t['duration_s']))}")
    if t["rating_outcome"] == "rated" and t["rating"] is not None:
        add(c, day, w, staff, "rated")
        add(c, day, w, staff, f"r{int(t['rating'])}")
        if t["rating_suspect"]:
            add(c, day, w, staff, "suspect")
        else:
            add(c, day, w, staff, "rated_ok")
            if int(t["rating"]) >= SATISFIED_AT:
                add(c, day, w, staff, "satisfied")
    else:
        add(c, day, w, staff, "unrated")
    return c


def absence(conn: sqlite3.Connection, unit_id: str, absence_id: str) -> Contribution:
    """An off-seat episode: count, seconds, level and whether it was excused."""
    c: Contribution = {}
    a = conn.execute("SELECT * FROM rpt_absences WHERE unit_id = ? AND absence_id = ?",
                     [unit_id, absence_id]).fetchone()
    if a is None or a["window_id"] is None or a["start_utc"] is None:
        return c
    w, staff = a["window_id"], a["staff_no"]
    day = local_day(parse_utc(a["start_utc"]), window_tz(conn, w))
    seconds = float(a["duration_s"] or 0.0)
    level = int(a["max_level"] or 0)
    why = "closed" if a["counter_open"] == 0 else (
        leave_at(conn, staff, a["start_utc"]) or "unexcused")
    for suffix in ("", f"_l{level}", f"_{why}"):
        add(c, day, w, staff, f"os_n{suffix}")
        add(c, day, w, staff, f"os_s{suffix}", seconds)
    return c


def session(conn: sqlite3.Connection, unit_id: str, session_id: str) -> Contribution:
    """A staff session's logged-in seconds (nothing until both ends are known)."""
    c: Contribution = {}
    s = conn.execute("SELECT * FROM rpt_sessions WHERE unit_id = ? AND session_id = ?",
                     [unit_id, session_id]).fetchone()
    if s is None or s["window_id"] is None or not s["login_utc"] or not s["logout_utc"]:
        return c
    tz = window_tz(conn, s["window_id"])
    for day, seconds in split_by_day(parse_utc(s["login_utc"]), parse_utc(s["logout_utc"]), tz):
        add(c, day, s["window_id"], s["staff_no"], "session_s", seconds)
    return c


def closure(conn: sqlite3.Connection, unit_id: str, closed_utc: str) -> Contribution:
    """A temporary closure: from a ``counter_closed`` to the unit's next open/close mark."""
    c: Contribution = {}
    m = conn.execute("SELECT window_id FROM rpt_marks WHERE unit_id = ? AND utc = ? "
                     "AND open = 0", [unit_id, closed_utc]).fetchone()
    if m is None or m[0] is None:
        return c
    nxt = conn.execute("SELECT MIN(utc) FROM rpt_marks WHERE unit_id = ? AND utc > ?",
                       [unit_id, closed_utc]).fetchone()[0]
    if nxt is None:
        return c  # still closed: counted once it reopens
    tz = window_tz(conn, m[0])
    for day, seconds in split_by_day(parse_utc(closed_utc), parse_utc(nxt), tz):
        add(c, day, m[0], None, "closed_s", seconds)
    return c


def _overlap(a0: dt.datetime, a1: dt.datetime, b0: dt.datetime, b1: dt.datetime) -> tuple[
        dt.datetime, dt.datetime] | None:
    lo, hi = max(a0, b0), min(a1, b1)
    return (lo, hi) if hi > lo else None


def shift(conn: sqlite3.Connection, shift_id: str) -> Contribution:
    """A scheduled shift against the staff member's sessions (on any window) and leave.

    On leave or away on business (whichever covers more) if leave covers at least
    :data:`LEAVE_SHARE` of the shift; else
    present if a session overlaps it, late if the first such login is more than
    :data:`ATTENDANCE_GRACE_S` after the start, left early if the last logout is more
    than that before the end (a session still open is not early). Time the staff
    member's window reported *away on business* (docs/window-states.md) counts as
    business: a shift without a session but mostly away is ``business_n``, and a logout
    followed by away until the end is not leaving early.
    """
    c: Contribution = {}
    s = conn.execute("SELECT * FROM org_shifts WHERE shift_id = ?", [shift_id]).fetchone()
    if s is None:
        return c
    w, staff, tz = s["window_id"], s["staff_no"], window_tz(conn, s["window_id"])
    start, end = parse_utc(s["start_utc"]), parse_utc(s["end_utc"])
    day = local_day(start, tz)
    add(c, day, w, staff, "shift_n")
    for d, seconds in split_by_day(start, end, tz):
        add(c, d, w, staff, "sched_s", seconds)
    away: dict[str, float] = {}
    for lv in conn.execute("SELECT kind, start_utc, end_utc FROM org_leave WHERE staff_no = ?"
                           " AND start_utc < ? AND end_utc > ?",
                           [staff, s["end_utc"], s["start_utc"]]):
        part = _overlap(start, end, parse_utc(lv["start_utc"]), parse_utc(lv["end_utc"]))
        if part is not None:
            away[lv["kind"]] = away.get(lv["kind"], 0.0) + (part[1] - part[0]).total_seconds()
            for d, seconds in split_by_day(*part, tz):
                add(c, d, w, staff, f"{lv['kind']}_s", seconds)
    if sum(away.values()) >= LEAVE_SHARE * (end - start).total_seconds():
        kind = max(sorted(away), key=lambda k: away[k])
        add(c, day, w, staff, f"{kind}_n")
        return c
    sessions = conn.execute(
        "SELECT login_utc, logout_utc FROM rpt_sessions WHERE staff_no = ? AND "
        "login_utc < ? AND (logout_utc IS NULL OR logout_utc > ?)",
        [staff, s["end_utc"], s["start_utc"]]).fetchall()
    if not sessions:
        if wstates.away_seconds(conn, staff, start, end) >= LEAVE_SHARE * (
                end - start).total_seconds():
            add(c, day, w, staff, "business_n")
        return c
    add(c, day, w, staff, "present_n")
    first = min(parse_utc(r[0]) for r in sessions)
    if (first - start).total_seconds() > ATTENDANCE_GRACE_S:
        add(c, day, w, staff, "late_n")
    if all(r[1] for r in sessions):
        last = max(parse_utc(r[1]) for r in sessions)
        gone = (end - last).total_seconds()
        if gone > ATTENDANCE_GRACE_S and gone - wstates.away_seconds(
                conn, staff, last, end) > ATTENDANCE_GRACE_S:
            add(c, day, w, staff, "early_n")
    return c
