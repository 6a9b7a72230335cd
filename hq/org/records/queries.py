"""Reading the organisation for people, always within a :class:`Scope`.

A branch manager sees their branch's halls, windows, shifts and home staff; a hall
supervisor their hall's windows and shifts and the staff of its branch; ``all`` sees
everything. Each function returns plain dicts ready for JSON or a template.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from hq.org.records.models import RULE_FIELDS
from hq.storage.models import utc_text
from hq.storage.scope import Scope


def _rows(conn: sqlite3.Connection, sql: str, args: list[Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sql, args)]


def _branch_filter(scope: Scope, column: str) -> tuple[str, list[Any]]:
    """Rows whose ``column`` is a branch in scope (a hall scope sees its branch)."""
    if scope.level == "all":
        return "1 = 1", []
    if scope.level == "branch":
        return f"{column} = ?", [scope.node_id]
    return f"{column} = (SELECT branch_id FROM org_halls WHERE hall_id = ?)", [scope.node_id]


def _hall_filter(scope: Scope, column: str) -> tuple[str, list[Any]]:
    if scope.level == "all":
        return "1 = 1", []
    if scope.level == "branch":
        return f"{column} IN (SELECT hall_id FROM org_halls WHERE branch_id = ?)", [scope.node_id]
    return f"{column} = ?", [scope.node_id]


def tree(conn: sqlite3.Connection, scope: Scope) -> list[dict[str, Any]]:
    """Branches in scope, each with its halls (in scope), each with its windows and units."""
    bw, ba = _branch_filter(scope, "branch_id")
    hw, ha = _hall_filter(scope, "hall_id")
    branches = _rows(conn, f"SELECT * FROM org_branches WHERE {bw} ORDER BY branch_id", ba)
    halls = _rows(conn, f"SELECT * FROM org_halls WHERE {hw} ORDER BY hall_id", ha)
    windows = _rows(conn, f"SELECT * FROM org_windows WHERE {hw} ORDER BY window_id", ha)
    units: dict[str, list[str]] = {}
    for r in conn.execute("SELECT unit_id, window_id FROM org_unit_windows ORDER BY unit_id"):
        units.setdefault(r[1], []).append(r[0])
    for w in windows:
        w["units"] = units.get(w["window_id"], [])
    for h in halls:
        h["windows"] = [w for w in windows if w["hall_id"] == h["hall_id"]]
    for b in branches:
        b["halls"] = [h for h in halls if h["branch_id"] == b["branch_id"]]
    return branches


def window_ids(conn: sqlite3.Connection, scope: Scope) -> list[str]:
    where, args = scope.window_filter("window_id")
    return [r[0] for r in conn.execute(
        f"SELECT window_id FROM org_windows WHERE {where} ORDER BY window_id", args)]


def staff(conn: sqlite3.Connection, scope: Scope) -> list[dict[str, Any]]:
    """Staff whose home branch is in scope (staff with none: only for ``all``)."""
    where, args = _branch_filter(scope, "home_branch_id")
    rows = _rows(conn, f"SELECT * FROM org_staff WHERE {where} ORDER BY staff_no", args)
    for r in rows:
        r["active"] = bool(r["active"])
    return rows


def shifts(conn: sqlite3.Connection, scope: Scope, utc_from: dt.datetime | None = None,
           utc_to: dt.datetime | None = None, staff_no: str | None = None,
           limit: int = 1000) -> list[dict[str, Any]]:
    """Dated shifts at windows in scope, overlapping [from, to), by start."""
    where, args = scope.window_filter("window_id")
    sql = f"SELECT * FROM org_shifts WHERE {where}"
    if utc_from is not None:
        sql, args = sql + " AND end_utc > ?", [*args, utc_text(utc_from)]
    if utc_to is not None:
        sql, args = sql + " AND start_utc < ?", [*args, utc_text(utc_to)]
    if staff_no is not None:
        sql, args = sql + " AND staff_no = ?", [*args, staff_no]
    return _rows(conn, sql + " ORDER BY start_utc, window_id LIMIT ?", [*args, limit])


def templates(conn: sqlite3.Connection, scope: Scope) -> list[dict[str, Any]]:
    where, args = scope.window_filter("window_id")
    return _rows(conn, f"SELECT * FROM org_shift_templates WHERE {where} "
                       "ORDER BY window_id, start_local, template_id", args)


def leave(conn: sqlite3.Connection, scope: Scope, utc_from: dt.datetime | None = None,
          utc_to: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Leave and away-on-business of staff in scope, overlapping [from, to)."""
    where, args = _branch_filter(scope, "s.home_branch_id")
    sql = (f"SELECT l.* FROM org_leave l JOIN org_staff s ON s.staff_no = l.staff_no "
           f"WHERE {where}")
    if utc_from is not None:
        sql, args = sql + " AND l.end_utc > ?", [*args, utc_text(utc_from)]
    if utc_to is not None:
        sql, args = sql + " AND l.start_utc < ?", [*args, utc_text(utc_to)]
    return _rows(conn, sql + " ORDER BY l.start_utc, l.staff_no", args)


def rules(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every rules row (org, then overrides); they are not customer data."""
    cols = ", ".join(RULE_FIELDS)
    return _rows(conn, f"SELECT level, node_id, {cols} FROM org_rules ORDER BY "
                       "CASE level WHEN 'org' THEN 0 WHEN 'branch' THEN 1 WHEN 'hall' THEN 2 "
                       "ELSE 3 END, node_id", [])


def zones(conn: sqlite3.Connection, scope: Scope) -> list[dict[str, Any]]:
    where, args = scope.window_filter("window_id")
    return _rows(conn, f"SELECT * FROM org_zones WHERE {where} ORDER BY window_id, name", args)


def settings(conn: sqlite3.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute("SELECT key, value FROM org_settings")}
