"""The dashboard's tiles for the windows in a scope, from the live table and the schedule."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from hq.storage.models import utc_text
from hq.storage.scope import Scope

from .state import Plan, Tile, WindowLive, tile
from .store import ensure_schema, windows_live


@dataclass(frozen=True)
class WindowTile:
    """A tile with the window's place in the tree and its branch's time zone."""

    window_id: str
    window_name: str
    hall_id: str
    hall_name: str
    branch_id: str
    branch_name: str
    tz: str
    unit_id: str | None
    tile: Tile
    seq: int


@dataclass(frozen=True)
class _Place:
    window_id: str
    window_name: str
    hall_id: str
    hall_name: str
    branch_id: str
    branch_name: str
    tz: str
    unit_id: str | None


def _places(conn: sqlite3.Connection, scope: Scope,
            only: Iterable[str] | None = None) -> list[_Place]:
    cond, args = scope.window_filter("w.window_id")
    sql = ("SELECT w.window_id, w.name, h.hall_id, h.name, b.branch_id, b.name, b.tz, "
           "(SELECT unit_id FROM org_unit_windows u WHERE u.window_id = w.window_id "
           " ORDER BY bound_utc DESC LIMIT 1) "
           "FROM org_windows w JOIN org_halls h ON h.hall_id = w.hall_id "
           f"JOIN org_branches b ON b.branch_id = h.branch_id WHERE {cond}")
    if only is not None:
        ids = list(only)
        if not ids:
            return []
        sql += f" AND w.window_id IN ({','.join('?' * len(ids))})"
        args = [*args, *ids]
    rows = conn.execute(sql + " ORDER BY b.name, h.name, w.name, w.window_id", args).fetchall()
    return [_Place(*(str(v) if v is not None else None for v in r)) for r in rows]  # type: ignore[arg-type]


def plans(conn: sqlite3.Connection, window_ids: list[str], now: dt.datetime) -> dict[str, Plan]:
    """What the schedule says of each window at ``now``: a shift, and its staff's leave."""
    out: dict[str, Plan] = {}
    t = utc_text(now)
    for i in range(0, len(window_ids), 500):
        chunk = window_ids[i:i + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT s.window_id, s.staff_no, (SELECT l.kind FROM org_leave l "
            " WHERE l.staff_no = s.staff_no AND l.start_utc <= ? AND l.end_utc > ? "
            " ORDER BY l.kind = 'business' DESC LIMIT 1) "
            f"FROM org_shifts s WHERE s.window_id IN ({marks}) "
            "AND s.start_utc <= ? AND s.end_utc > ? ORDER BY s.start_utc",
            [t, t, *chunk, t, t]).fetchall()
        for wid, staff_no, leave in rows:
            prior = out.get(wid)
            # Of overlapping shifts, one whose staff is present wins over one on leave.
            if prior is None or (prior.leave is not None and leave is None):
                out[wid] = Plan(scheduled=leave is None, staff_no=staff_no, leave=leave)
    return out


def board(conn: sqlite3.Connection, scope: Scope, now: dt.datetime,
          only: Iterable[str] | None = None) -> list[WindowTile]:
    """Every window in ``scope`` (or those of ``only`` in it) with its tile at ``now``."""
    ensure_schema(conn)
    places = _places(conn, scope, only)
    ids = [p.window_id for p in places]
    live = windows_live(conn, ids)
    plan = plans(conn, ids, now)
    out = []
    for p in places:
        state, heard, seq = live.get(p.window_id, (WindowLive(), None, 0))
        out.append(WindowTile(
            window_id=p.window_id, window_name=p.window_name, hall_id=p.hall_id,
            hall_name=p.hall_name, branch_id=p.branch_id, branch_name=p.branch_name,
            tz=p.tz, unit_id=p.unit_id or state.unit_id,
            tile=tile(state, plan.get(p.window_id, Plan()), heard, now), seq=seq))
    return out
