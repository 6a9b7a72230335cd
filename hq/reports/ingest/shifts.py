"""Shifts and leave into the rollups: HQ authors them, so no unit event announces a change.

Triggers on ``org_shifts``/``org_leave`` queue each change in ``rpt_dirty`` (see
:mod:`hq.reports.tables.schema`) and :func:`settle_dirty` re-settles what it touched, at
the next ingest and before every report. A staff session or an away segment filed at
ingest re-settles the shifts it overlaps (:func:`refresh_shifts`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from hq.reports.ingest import entities
from hq.reports.tables.rollup import settle
from hq.reports.tables.schema import ensure_schema
from hq.storage.models import parse_utc, utc_text


def refresh_shifts(conn: sqlite3.Connection, staff_no: str | None, start: dt.datetime,
                   end: dt.datetime) -> int:
    """Re-settle every shift (of ``staff_no``, or everyone's) overlapping [start, end).

    Returns how many shifts were looked at. Shifts deleted from org_shifts keep their
    old contribution until :func:`forget_shift` is called for them.
    """
    ensure_schema(conn)
    sql = "SELECT shift_id FROM org_shifts WHERE start_utc < ? AND end_utc > ?"
    args: list[Any] = [utc_text(end), utc_text(start)]
    if staff_no is not None:
        sql += " AND staff_no = ?"
        args.append(staff_no)
    ids = [r[0] for r in conn.execute(sql, args).fetchall()]
    for shift_id in ids:
        settle(conn, f"shift:{shift_id}", entities.shift(conn, shift_id))
    return len(ids)


def refresh_leave(conn: sqlite3.Connection, staff_no: str, start: dt.datetime,
                  end: dt.datetime) -> None:
    """After leave of ``staff_no`` over [start, end) changed: re-settle its shifts and
    the off-seat episodes that began then (their excuse may have changed)."""
    ensure_schema(conn)
    refresh_shifts(conn, staff_no, start, end)
    rows = conn.execute("SELECT unit_id, absence_id FROM rpt_absences WHERE staff_no = ? "
                        "AND start_utc >= ? AND start_utc < ?",
                        [staff_no, utc_text(start), utc_text(end)]).fetchall()
    for unit_id, absence_id in rows:
        settle(conn, f"abs:{unit_id}:{absence_id}",
               entities.absence(conn, unit_id, absence_id))


def forget_shift(conn: sqlite3.Connection, shift_id: str) -> None:
    """Take a removed shift's figures back out of the rollups."""
    ensure_schema(conn)
    settle(conn, f"shift:{shift_id}", {})


def settle_dirty(conn: sqlite3.Connection) -> int:
    """Re-settle the shifts and leave spans changed since last time; returns how many.

    Runs in the caller's transaction (ingest's), or in its own when there is none.
    """
    if conn.execute("SELECT 1 FROM rpt_dirty LIMIT 1").fetchone() is None:
        return 0
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")
    try:
        rows = conn.execute("SELECT kind, id, staff_no, start_utc, end_utc FROM rpt_dirty"
                            ).fetchall()
        for kind, ident, staff, start, end in rows:
            if kind == "shift":
                settle(conn, f"shift:{ident}", entities.shift(conn, ident))
            elif staff and start and end:
                refresh_leave(conn, staff, parse_utc(start), parse_utc(end))
        conn.execute("DELETE FROM rpt_dirty")
    except BaseException:
        if own:
            conn.execute("ROLLBACK")
        raise
    if own:
        conn.execute("COMMIT")
    return len(rows)
