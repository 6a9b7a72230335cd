"""The transaction search behind /transactions, and one transaction with its timeline.

Every query takes the user's :class:`Scope` and adds its window filter, so a guessed
unit/transaction id outside the scope finds nothing (the page answers 404, the same as
for an id that does not exist). Values travel only as SQL parameters.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from hq.storage.models import parse_utc, utc_text
from hq.storage.scope import Scope

MAX_PER_PAGE = 200

_FROM = (
    "FROM transactions t "
    "LEFT JOIN org_windows w ON w.window_id = t.window_id "
    "LEFT JOIN org_halls h ON h.hall_id = w.hall_id "
    "LEFT JOIN org_branches b ON b.branch_id = h.branch_id "
    "LEFT JOIN org_staff s ON s.staff_no = t.staff_id "
    "LEFT JOIN clips c ON c.unit_id = t.unit_id AND c.clip_id = t.clip_id "
)
# Whether an alert was raised at the unit while the transaction ran.
_HAS_ALERT = (
    "EXISTS (SELECT 1 FROM events e WHERE e.unit_id = t.unit_id AND e.type = 'alert_raised' "
    "AND e.utc >= t.started_utc AND e.utc <= COALESCE(t.ended_utc, t.started_utc))"
)
_COLUMNS = (
    "SELECT t.unit_id, t.txn_id, t.window_id, t.staff_id, t.started_utc, t.ended_utc, "
    "t.duration_s, t.end_reason, t.rating, t.rating_outcome, t.rating_suspect, t.clip_id, "
    "t.clock_synced, w.name AS window_name, h.hall_id, h.name AS hall_name, b.branch_id, "
    "b.name AS branch_name, b.tz, s.name AS staff_name, c.sha256 AS clip_sha256, "
    f"c.size AS clip_size, c.state AS clip_state, {_HAS_ALERT} AS has_alert "
)


@dataclass(frozen=True)
class TxnFilter:
    """The search form; ``None`` means any. Times bound the start (to exclusive)."""

    branch_id: str | None = None
    hall_id: str | None = None
    window_id: str | None = None
    staff_id: str | None = None
    utc_from: dt.datetime | None = None
    utc_to: dt.datetime | None = None
    rating: int | None = None  # 0: unrated
    duration_min_s: float | None = None
    duration_max_s: float | None = None
    has_alert: bool | None = None
    page: int = 1
    per_page: int = 50

    def __post_init__(self) -> None:
        if self.page < 1:
            raise ValueError(f"page {self.page} must be 1 or more")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page {self.per_page} must be within 1..{MAX_PER_PAGE}")


@dataclass(frozen=True)
class TxnRow:
    """One transaction as the pages show it, with its place in the tree."""

    unit_id: str
    txn_id: str
    window_id: str | None
    window_name: str | None
    hall_id: str | None
    hall_name: str | None
    branch_id: str | None
    branch_name: str | None
    tz: str
    staff_id: str | None
    staff_name: str | None
    started_utc: dt.datetime | None
    ended_utc: dt.datetime | None
    duration_s: float | None
    end_reason: str | None
    rating: int | None
    rating_outcome: str | None
    rating_suspect: bool
    clip_id: str | None
    clip_sha256: str | None
    clip_size: int | None
    clip_state: str | None
    clock_synced: bool | None
    has_alert: bool


def _where(scope: Scope, f: TxnFilter) -> tuple[str, list[Any]]:
    cond, args = scope.window_filter("t.window_id")
    parts, values = [cond], list(args)
    for column, value in (("b.branch_id", f.branch_id), ("h.hall_id", f.hall_id),
                          ("t.window_id", f.window_id), ("t.staff_id", f.staff_id)):
        if value is not None:
            parts.append(f"{column} = ?")
            values.append(value)
    bounds = (("t.started_utc >= ?", f.utc_from and utc_text(f.utc_from)),
              ("t.started_utc < ?", f.utc_to and utc_text(f.utc_to)),
              ("t.duration_s >= ?", f.duration_min_s),
              ("t.duration_s <= ?", f.duration_max_s))
    for fragment, bound in bounds:
        if bound is not None:
            parts.append(fragment)
            values.append(bound)
    if f.rating == 0:
        parts.append("t.rating IS NULL")
    elif f.rating is not None:
        parts.append("t.rating = ?")
        values.append(f.rating)
    if f.has_alert is not None:
        parts.append(_HAS_ALERT if f.has_alert else f"NOT {_HAS_ALERT}")
    return " WHERE " + " AND ".join(parts), values


def _row(r: sqlite3.Row) -> TxnRow:
    def t(key: str) -> dt.datetime | None:
        return parse_utc(r[key]) if r[key] is not None else None

    return TxnRow(
        unit_id=r["unit_id"], txn_id=r["txn_id"], window_id=r["window_id"],
        window_name=r["window_name"], hall_id=r["hall_id"], hall_name=r["hall_name"],
        branch_id=r["branch_id"], branch_name=r["branch_name"], tz=r["tz"] or "UTC",
        staff_id=r["staff_id"], staff_name=r["staff_name"], started_utc=t("started_utc"),
        ended_utc=t("ended_utc"), duration_s=r["duration_s"], end_reason=r["end_reason"],
        rating=r["rating"], rating_outcome=r["rating_outcome"],
        rating_suspect=bool(r["rating_suspect"]), clip_id=r["clip_id"],
        clip_sha256=r["clip_sha256"], clip_size=r["clip_size"], clip_state=r["clip_state"],
        clock_synced=None if r["clock_synced"] is None else bool(r["clock_synced"]),
        has_alert=bool(r["has_alert"]))


def search(conn: sqlite3.Connection, scope: Scope, f: TxnFilter) -> tuple[list[TxnRow], bool]:
    """One page of matches, newest start first, and whether another page follows.

    No total count: on a year of data a count costs far more than the page itself.
    """
    where, args = _where(scope, f)
    sql = (f"{_COLUMNS}{_FROM}{where} ORDER BY t.started_utc DESC, t.unit_id, t.txn_id "
           "LIMIT ? OFFSET ?")
    rows = conn.execute(sql, [*args, f.per_page + 1, (f.page - 1) * f.per_page]).fetchall()
    return [_row(r) for r in rows[:f.per_page]], len(rows) > f.per_page


def one(conn: sqlite3.Connection, scope: Scope, unit_id: str, txn_id: str) -> TxnRow | None:
    """The transaction, or None if it does not exist or lies outside ``scope``."""
    cond, args = scope.window_filter("t.window_id")
    r = conn.execute(f"{_COLUMNS}{_FROM} WHERE t.unit_id = ? AND t.txn_id = ? AND {cond}",
                     [unit_id, txn_id, *args]).fetchone()
    return _row(r) if r is not None else None


@dataclass(frozen=True)
class Step:
    """One moment of a transaction's timeline."""

    utc: dt.datetime
    kind: str  # arrive, prompt, rating, leave, alert, clip
    detail: dict[str, Any]


_KINDS = {"transaction_started": "arrive", "rating_prompted": "prompt", "rating": "rating",
          "transaction_ended": "leave", "alert_raised": "alert", "alert_cleared": "alert_end"}


def timeline(conn: sqlite3.Connection, txn: TxnRow) -> list[Step]:
    """Arrive, prompt, rating, leave (and alerts while it ran), in unit time order."""
    start = txn.started_utc or txn.ended_utc
    end = txn.ended_utc or txn.started_utc
    rows = conn.execute(
        "SELECT type, utc, data FROM events WHERE unit_id = ? AND type IN "
        "('transaction_started', 'rating_prompted', 'rating', 'transaction_ended') "
        "AND json_extract(data, '$.txn_id') = ? ORDER BY utc, mono",
        [txn.unit_id, txn.txn_id]).fetchall()
    steps = [Step(parse_utc(r["utc"]), _KINDS[r["type"]], json.loads(r["data"])) for r in rows]
    if start is not None and end is not None:
        alerts = conn.execute(
            "SELECT type, utc, data FROM events WHERE unit_id = ? AND type = 'alert_raised' "
            "AND utc >= ? AND utc <= ? ORDER BY utc, mono",
            [txn.unit_id, utc_text(start), utc_text(end)]).fetchall()
        steps += [Step(parse_utc(r["utc"]), "alert", json.loads(r["data"])) for r in alerts]
    return sorted(steps, key=lambda s: (s.utc, s.kind))
