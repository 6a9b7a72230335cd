"""Authoring retention periods: the organisation default and per-branch overrides."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

from hq.storage.models import utc_text

from .policy import ORG, Period, PeriodError, Periods, check_periods


def load(conn: sqlite3.Connection) -> Periods:
    """Every period row as :class:`Periods` (no rows: everything kept for ever)."""
    default, branches = Period(), {}
    for r in conn.execute("SELECT branch_id, clip_days, event_days FROM retention_periods"):
        p = Period(r[1], r[2])
        if r[0] == ORG:
            default = p
        else:
            branches[r[0]] = p
    return Periods(default, branches)


def set_period(conn: sqlite3.Connection, branch_id: str | None, *,
               clip_days: int | None, event_days: int | None, by: str,
               now: dt.datetime) -> Periods:
    """Write the default (``branch_id`` None) or one branch's override, in the caller's
    write transaction; PeriodError naming the field when a rule is broken (nothing written)."""
    key = ORG if branch_id is None else branch_id
    if branch_id is not None and conn.execute(
            "SELECT 1 FROM org_branches WHERE branch_id = ?", [branch_id]).fetchone() is None:
        raise PeriodError("branch", f"no branch {branch_id!r} in the organisation")
    current = load(conn)
    p = Period(clip_days, event_days)
    new = (dataclasses.replace(current, default=p) if key == ORG else
           dataclasses.replace(current, branches={**current.branches, key: p}))
    check_periods(new)
    conn.execute(
        "INSERT INTO retention_periods (branch_id, clip_days, event_days, updated_utc, "
        "updated_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (branch_id) DO UPDATE SET "
        "clip_days = excluded.clip_days, event_days = excluded.event_days, "
        "updated_utc = excluded.updated_utc, updated_by = excluded.updated_by",
        [key, clip_days, event_days, utc_text(now), by])
    return new


def clear_period(conn: sqlite3.Connection, branch_id: str | None) -> bool:
    """Remove the default or a branch's override; whether there was one."""
    key = ORG if branch_id is None else branch_id
    cur = conn.execute("DELETE FROM retention_periods WHERE branch_id = ?", [key])
    if key == ORG and cur.rowcount:
        check_periods(load(conn))  # the overrides alone must still be consistent
    return bool(cur.rowcount)
