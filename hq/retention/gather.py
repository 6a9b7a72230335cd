"""Reading retention's candidates out of the events database: old rows as policy Items.

Only rows older than the latest cutoff of any branch are read (nothing newer can be
due); :func:`hq.retention.policy.due` then decides row by row. An item's branch is its
transaction's or event's window's branch, else the unit's current window's, else the
unit's older per-unit registration.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from hq.storage.models import parse_utc, utc_text

from .policy import CLIP, EVENT, TRANSACTION, Item

_BRANCH_JOINS = (
    "LEFT JOIN org_windows ow ON ow.window_id = x.window_id "
    "LEFT JOIN org_halls oh ON oh.hall_id = ow.hall_id "
    "LEFT JOIN org_unit_windows uw ON uw.unit_id = x.unit_id "
    "LEFT JOIN org_windows cw ON cw.window_id = uw.window_id "
    "LEFT JOIN org_halls ch ON ch.hall_id = cw.hall_id "
    "LEFT JOIN units u ON u.unit_id = x.unit_id")
_BRANCH = "COALESCE(oh.branch_id, ch.branch_id, u.branch_id)"


def clips(conn: sqlite3.Connection, before: dt.datetime) -> list[Item]:
    """Clips recorded before ``before`` and not yet deleted: a transaction's clip (aged
    from its start), or a clip HQ only knows from the unit's clip events."""
    rows = conn.execute(
        f"SELECT x.unit_id, x.clip_id, x.utc, x.txn_id, {_BRANCH} FROM ("
        " SELECT t.unit_id, t.clip_id, COALESCE(t.started_utc, t.ended_utc) AS utc, "
        " t.txn_id, t.window_id FROM transactions t WHERE t.clip_id IS NOT NULL "
        " UNION ALL "
        " SELECT c.unit_id, c.clip_id, c.utc, NULL, NULL FROM clips c WHERE c.utc IS NOT NULL "
        " AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.unit_id = c.unit_id "
        " AND t.clip_id = c.clip_id)"
        f") x {_BRANCH_JOINS} WHERE x.utc IS NOT NULL AND x.utc < ? AND NOT EXISTS ("
        " SELECT 1 FROM retention_clips_deleted d WHERE d.unit_id = x.unit_id "
        " AND d.clip_id = x.clip_id) ORDER BY x.utc, x.unit_id, x.clip_id",
        [utc_text(before)]).fetchall()
    return [Item(CLIP, r[0], r[1], r[4], parse_utc(r[2]), txn_id=r[3], clip_id=r[1])
            for r in rows]


def transactions(conn: sqlite3.Connection, before: dt.datetime) -> list[Item]:
    """Transactions that ended (else started) before ``before``."""
    rows = conn.execute(
        f"SELECT x.unit_id, x.txn_id, x.utc, x.clip_id, {_BRANCH} FROM ("
        " SELECT unit_id, txn_id, COALESCE(ended_utc, started_utc) AS utc, clip_id, "
        " window_id FROM transactions) x "
        f"{_BRANCH_JOINS} WHERE x.utc IS NOT NULL AND x.utc < ? "
        "ORDER BY x.utc, x.unit_id, x.txn_id", [utc_text(before)]).fetchall()
    return [Item(TRANSACTION, r[0], r[1], r[4], parse_utc(r[2]), txn_id=r[1], clip_id=r[3])
            for r in rows]


def _named(data: str, key: str) -> str | None:
    try:
        v = json.loads(data).get(key)
    except (ValueError, AttributeError):
        return None
    return v if isinstance(v, str) else None


Cursor = tuple[str, str]  # (utc, uuid) of the last event read
START: Cursor = ("", "")


def events(conn: sqlite3.Connection, before: dt.datetime, after: Cursor, batch: int
           ) -> tuple[list[Item], Cursor]:
    """Up to ``batch`` events recorded before ``before`` and after the cursor, oldest
    first, and the cursor to read on from (an empty list: nothing left).

    Keyset paging on (utc, uuid), so rows kept (held, or a branch with a longer period)
    never hold the next page up, and a page may be deleted before the next is read.
    """
    rows = conn.execute(
        f"SELECT x.unit_id, x.uuid, x.utc, x.data, {_BRANCH} FROM events x "
        f"{_BRANCH_JOINS} WHERE x.utc < ? AND (x.utc > ? OR (x.utc = ? AND x.uuid > ?)) "
        "ORDER BY x.utc, x.uuid LIMIT ?",
        [utc_text(before), after[0], after[0], after[1], batch]).fetchall()
    if not rows:
        return [], after
    return ([Item(EVENT, r[0], r[1], r[4], parse_utc(r[2]), txn_id=_named(r[3], "txn_id"),
                  clip_id=_named(r[3], "clip_id")) for r in rows],
            (rows[-1][2], rows[-1][1]))
