"""Who may change what: authoring limited to the author's scope.

The tree itself (branches, halls, windows), rules, zones and settings belong to the whole
organisation (scope ``all``). A branch manager authors their branch's staff (home branch
in scope), shifts, templates and planned closed/away periods at windows in scope, and
leave of staff in scope. Checked inside the write's transaction, against what is stored,
so a record cannot be moved out of (or taken into) another branch.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hq.org.records.errors import OrgForbidden
from hq.storage.scope import Scope

SCOPED_KINDS = frozenset({"staff", "shift", "template", "leave", "period"})


def _window_in(conn: sqlite3.Connection, scope: Scope, window_id: str | None) -> bool:
    where, args = scope.window_filter("window_id")
    return window_id is not None and conn.execute(
        f"SELECT 1 FROM org_windows WHERE window_id = ? AND {where}",
        [window_id, *args]).fetchone() is not None


def _branch_in(conn: sqlite3.Connection, scope: Scope, branch_id: str | None) -> bool:
    if branch_id is None:
        return False
    if scope.level == "branch":
        return branch_id == scope.node_id
    row = conn.execute("SELECT branch_id FROM org_halls WHERE hall_id = ?",
                       [scope.node_id]).fetchone()
    return row is not None and row[0] == branch_id


def _home(conn: sqlite3.Connection, staff_no: str) -> tuple[bool, str | None]:
    row = conn.execute("SELECT home_branch_id FROM org_staff WHERE staff_no = ?",
                       [staff_no]).fetchone()
    return (row is not None, None if row is None else row[0])


def check_write(conn: sqlite3.Connection, kind: str, item: Any, scope: Scope) -> None:
    """OrgForbidden unless ``scope`` may store ``item`` of ``kind``."""
    if scope.level == "all":
        return
    where = scope.text()
    if kind not in SCOPED_KINDS:
        raise OrgForbidden(f"only the whole organisation's scope may change {kind}; "
                           f"yours is {where}")
    if kind == "staff":
        known, home = _home(conn, item.staff_no)
        if known and not _branch_in(conn, scope, home):
            raise OrgForbidden(f"staff {item.staff_no} belongs to another branch "
                               f"than {where}")
        if not _branch_in(conn, scope, item.home_branch_id):
            raise OrgForbidden(f"home_branch_id: must be a branch in your scope ({where})")
    elif kind in ("shift", "template", "period"):
        if not _window_in(conn, scope, item.window_id):
            raise OrgForbidden(f"window_id: window {item.window_id} is not in your scope "
                               f"({where})")
    elif kind == "leave":
        known, home = _home(conn, item.staff_no)
        if known and not _branch_in(conn, scope, home):
            raise OrgForbidden(f"staff_no: staff {item.staff_no} is not in your scope ({where})")


def check_delete(conn: sqlite3.Connection, kind: str, ident: str, scope: Scope) -> None:
    """OrgForbidden unless ``scope`` may delete that record (absent records pass: 404)."""
    if scope.level == "all":
        return
    if kind not in SCOPED_KINDS:
        raise OrgForbidden(f"only the whole organisation's scope may delete a {kind}")
    table = {"shift": ("org_shifts", "shift_id"),
             "template": ("org_shift_templates", "template_id"),
             "period": ("org_window_periods", "period_id")}.get(kind)
    if table is not None:
        row = conn.execute(f"SELECT window_id FROM {table[0]} WHERE {table[1]} = ?",
                           [ident]).fetchone()
        if row is not None and not _window_in(conn, scope, row[0]):
            raise OrgForbidden(f"{kind} {ident} is at a window outside your scope")
    elif kind == "leave":
        row = conn.execute("SELECT s.home_branch_id FROM org_leave l JOIN org_staff s "
                           "ON s.staff_no = l.staff_no WHERE l.leave_id = ?",
                           [ident]).fetchone()
        if row is not None and not _branch_in(conn, scope, row[0]):
            raise OrgForbidden(f"leave {ident} is of staff outside your scope")
