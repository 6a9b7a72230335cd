"""Reading alert threads in a scope, and acknowledging them (for api/, web/ and pages).

Every read takes a :class:`~hq.storage.scope.Scope` and filters on the thread's window in
SQL, so a thread outside a user's branch or hall is not found at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hq.alerts import schema
from hq.storage.models import utc_text
from hq.storage.scope import Scope

KIND_TITLES = {
    "off_seat": "Staff off seat", "disk": "Unit disk low", "camera": "Camera failure",
    "config_refused": "Unit refused its configuration", "silent": "Unit silent",
    "hq_disk": "HQ disk low", "disk_full": "HQ disk full",
    "storage_failing": "HQ storage failing", "item": "Item left or taken", "crowd": "Crowd density",
    "queue": "Queue length", "queue_length": "Queue too long",
}

_SELECT = (
    "SELECT t.*, w.name AS window_name, h.hall_id, h.name AS hall_name, "
    "b.branch_id, b.name AS branch_name, b.tz AS branch_tz, s.name AS staff_name "
    "FROM alert_threads t "
    "LEFT JOIN org_windows w ON w.window_id = t.window_id "
    "LEFT JOIN org_halls h ON h.hall_id = w.hall_id "
    "LEFT JOIN org_branches b ON b.branch_id = h.branch_id "
    "LEFT JOIN org_staff s ON s.staff_no = t.staff_id"
)


class UnknownThread(LookupError):
    """No thread with that id in the caller's scope (HTTP 404)."""


@dataclass(frozen=True)
class ThreadView:
    """An alert thread with its place in the organisation and its links."""

    thread_id: int
    kind: str
    title: str
    unit_id: str
    episode: str
    status: str
    level: int
    opened_utc: str
    level_utc: str
    closed_utc: str | None
    acked_utc: str | None
    acked_by: str | None
    branch_id: str | None
    branch_name: str | None
    hall_id: str | None
    hall_name: str | None
    window_id: str | None
    window_name: str | None
    staff_no: str | None
    staff_name: str | None
    detail: str
    clip_id: str | None
    snapshot_id: str | None
    dashboard_link: str | None
    clip_link: str | None
    snapshot_link: str | None
    branch_tz: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class ThreadDetail:
    """A thread with its level history, deliveries and their attempts, and notes."""

    thread: ThreadView
    levels: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


def _view(r: sqlite3.Row) -> ThreadView:
    window = r["window_id"]
    clip = r["clip_id"]
    snap = r["snapshot_id"]
    return ThreadView(
        thread_id=r["thread_id"], kind=r["kind"], title=KIND_TITLES.get(r["kind"], r["kind"]),
        unit_id=r["unit_id"], episode=r["episode"], status=r["status"], level=r["level"],
        opened_utc=r["opened_utc"], level_utc=r["level_utc"], closed_utc=r["closed_utc"],
        acked_utc=r["acked_utc"], acked_by=r["acked_by"], branch_id=r["branch_id"],
        branch_name=r["branch_name"], hall_id=r["hall_id"], hall_name=r["hall_name"],
        window_id=window, window_name=r["window_name"], staff_no=r["staff_id"],
        staff_name=r["staff_name"], detail=r["detail"], clip_id=clip, snapshot_id=snap,
        dashboard_link=f"/#window-{window}" if window else None,
        clip_link=f"/clips/{r['unit_id']}/{clip}" if clip else None,
        snapshot_link=f"/clips/{r['unit_id']}/{snap}" if snap else None,
        branch_tz=r["branch_tz"])


def _scoped(scope: Scope) -> tuple[str, list[Any]]:
    sql, args = scope.window_filter("t.window_id")
    return f" WHERE {sql}", args


def list_threads(conn: sqlite3.Connection, scope: Scope, *, status: str | None = None,
                 limit: int = 100, offset: int = 0) -> list[ThreadView]:
    """Threads in ``scope``, open ones first, newest first within each."""
    where, args = _scoped(scope)
    if status is not None:
        where, args = where + " AND t.status = ?", [*args, status]
    rows = conn.execute(
        f"{_SELECT}{where} ORDER BY t.status = 'open' DESC, t.level_utc DESC, t.thread_id "
        "DESC LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
    return [_view(r) for r in rows]


def open_threads(conn: sqlite3.Connection, scope: Scope) -> list[ThreadView]:
    """Open threads in ``scope`` (the dashboard highlights their windows and sounds)."""
    return list_threads(conn, scope, status="open", limit=1000)


def thread(conn: sqlite3.Connection, scope: Scope, thread_id: int) -> ThreadView:
    """One thread in ``scope``; UnknownThread otherwise."""
    where, args = _scoped(scope)
    row = conn.execute(f"{_SELECT}{where} AND t.thread_id = ?", [*args, thread_id]).fetchone()
    if row is None:
        raise UnknownThread(f"no alert thread {thread_id} in scope {scope.text()}")
    return _view(row)


def detail(conn: sqlite3.Connection, scope: Scope, thread_id: int) -> ThreadDetail:
    """One thread with everything that happened to it."""
    view = thread(conn, scope, thread_id)
    levels = [dict(r) for r in conn.execute(
        "SELECT level, utc, source FROM alert_levels WHERE thread_id = ? ORDER BY level",
        [thread_id])]
    deliveries = []
    for r in conn.execute(
            "SELECT delivery_id, level, channel, recipient, status, attempts, created_utc, "
            "done_utc, next_utc, last_error FROM alert_deliveries WHERE thread_id = ? "
            "ORDER BY level, delivery_id", [thread_id]):
        d = dict(r)
        d["attempt_log"] = [dict(a) for a in conn.execute(
            "SELECT n, started_utc, ms, ok, detail FROM alert_attempts WHERE delivery_id = ? "
            "ORDER BY n", [r["delivery_id"]])]
        deliveries.append(d)
    notes = [dict(r) for r in conn.execute(
        "SELECT note_id, utc, username, kind, text FROM alert_notes WHERE thread_id = ? "
        "ORDER BY note_id", [thread_id])]
    return ThreadDetail(view, levels, deliveries, notes)


@contextlib.contextmanager
def _tx(conn: sqlite3.Connection) -> Iterator[None]:
    if conn.in_transaction:  # the caller's transaction
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def acknowledge(conn: sqlite3.Connection, thread_id: int, username: str, now: dt.datetime,
                comment: str = "", *, scope: Scope | None = None) -> bool:
    """Acknowledge a thread (stops its escalation); True for the first acknowledgement.

    Later acknowledgements are kept as notes too, so the page shows who else answered.
    """
    with _tx(conn):
        schema.ensure(conn)
        thread(conn, scope or Scope.everything(), thread_id)
        cur = conn.execute("UPDATE alert_threads SET acked_utc = ?, acked_by = ? "
                           "WHERE thread_id = ? AND acked_utc IS NULL",
                           [utc_text(now), username, thread_id])
        conn.execute("INSERT INTO alert_notes (thread_id, utc, username, kind, text) "
                     "VALUES (?, ?, ?, 'ack', ?)", [thread_id, utc_text(now), username,
                                                    comment[:2000]])
        return cur.rowcount == 1


def add_comment(conn: sqlite3.Connection, thread_id: int, username: str, now: dt.datetime,
                text: str, *, scope: Scope | None = None) -> None:
    """Add a comment to a thread."""
    with _tx(conn):
        schema.ensure(conn)
        thread(conn, scope or Scope.everything(), thread_id)
        conn.execute("INSERT INTO alert_notes (thread_id, utc, username, kind, text) "
                     "VALUES (?, ?, ?, 'comment', ?)",
                     [thread_id, utc_text(now), username, text[:2000]])
