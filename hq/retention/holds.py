"""Legal holds: a dispute on a transaction stops the deletion of its clip and events.

A hold records who set it, why and when; releasing it records who and when. At most one
hold is open per transaction. Setting and releasing are done in the events database's
write transaction that retention's run also uses, so a hold set before a deletion's
claim always wins, and one set after it is told the recording is already gone.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass

from hq.storage.models import parse_utc, utc_text

MAX_REASON = 500
# Who may set and release holds: the roles that answer disputes (hq/accounts/roles.py's table
# has no hold permission of its own; these two read the audit log already).
HOLD_ROLES = frozenset({"admin", "auditor"})


class HoldError(ValueError):
    """A hold request breaks a rule; ``field`` names the input at fault."""

    def __init__(self, field_name: str, message: str, *, status: int = 400) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.status = status


@dataclass(frozen=True)
class Hold:
    """One legal hold, open or released."""

    hold_id: str
    unit_id: str
    txn_id: str
    clip_id: str | None
    reason: str
    held_by: str
    held_utc: dt.datetime
    released_by: str | None = None
    released_utc: dt.datetime | None = None
    release_note: str | None = None

    @property
    def open(self) -> bool:
        return self.released_utc is None


def _hold(r: sqlite3.Row | tuple[object, ...]) -> Hold:
    v = list(r)
    return Hold(str(v[0]), str(v[1]), str(v[2]), v[3] if v[3] is None else str(v[3]),
                str(v[4]), str(v[5]), parse_utc(str(v[6])),
                None if v[7] is None else str(v[7]),
                None if v[8] is None else parse_utc(str(v[8])),
                None if v[9] is None else str(v[9]))


_COLUMNS = ("hold_id, unit_id, txn_id, clip_id, reason, held_by, held_utc, released_by, "
            "released_utc, release_note")


def _text(field_name: str, value: str, limit: int = MAX_REASON) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        raise HoldError(field_name, "must not be empty")
    if len(value) > limit or any(not c.isprintable() for c in value):
        raise HoldError(field_name, f"at most {limit} printable characters")
    return value


def open_hold(conn: sqlite3.Connection, unit_id: str, txn_id: str) -> Hold | None:
    """The transaction's open hold, if any."""
    r = conn.execute(f"SELECT {_COLUMNS} FROM legal_holds WHERE unit_id = ? AND txn_id = ? "
                     "AND released_utc IS NULL", [unit_id, txn_id]).fetchone()
    return None if r is None else _hold(r)


def history(conn: sqlite3.Connection, unit_id: str | None = None,
            txn_id: str | None = None, *, open_only: bool = False) -> list[Hold]:
    """Holds (of one transaction, or all), oldest first."""
    parts, args = [], []
    if unit_id is not None:
        parts.append("unit_id = ?")
        args.append(unit_id)
    if txn_id is not None:
        parts.append("txn_id = ?")
        args.append(txn_id)
    if open_only:
        parts.append("released_utc IS NULL")
    where = " WHERE " + " AND ".join(parts) if parts else ""
    return [_hold(r) for r in conn.execute(
        f"SELECT {_COLUMNS} FROM legal_holds{where} ORDER BY held_utc, hold_id", args)]


def held_sets(conn: sqlite3.Connection) -> tuple[frozenset[tuple[str, str]],
                                                 frozenset[tuple[str, str]]]:
    """(unit, txn) and (unit, clip) pairs under an open hold."""
    txns, clips = set(), set()
    for unit, txn, clip in conn.execute("SELECT h.unit_id, h.txn_id, t.clip_id FROM "
                                        "legal_holds h LEFT JOIN transactions t ON "
                                        "t.unit_id = h.unit_id AND t.txn_id = h.txn_id "
                                        "WHERE h.released_utc IS NULL"):
        txns.add((unit, txn))
        if clip is not None:
            clips.add((unit, clip))
    return frozenset(txns), frozenset(clips)


def place(conn: sqlite3.Connection, unit_id: str, txn_id: str, *, reason: str, by: str,
          now: dt.datetime) -> Hold:
    """Hold a transaction, in the caller's write transaction.

    HoldError 404 if HQ has no such transaction (its events already deleted), 409 if it is
    held already; the clip may be gone already (then only its events are kept).
    """
    reason, by = _text("reason", reason), _text("by", by, 256)
    row = conn.execute("SELECT clip_id FROM transactions WHERE unit_id = ? AND txn_id = ?",
                       [unit_id, txn_id]).fetchone()
    if row is None:
        raise HoldError("transaction", f"no transaction {unit_id}/{txn_id} at HQ", status=404)
    if open_hold(conn, unit_id, txn_id) is not None:
        raise HoldError("transaction", f"{unit_id}/{txn_id} is already held", status=409)
    hold = Hold(secrets.token_hex(8), unit_id, txn_id, row[0], reason, by,
                parse_utc(utc_text(now)))
    conn.execute(f"INSERT INTO legal_holds ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, "
                 "NULL, NULL)", [hold.hold_id, unit_id, txn_id, hold.clip_id, reason, by,
                                 utc_text(now)])
    return hold


def release(conn: sqlite3.Connection, unit_id: str, txn_id: str, *, by: str, note: str,
            now: dt.datetime) -> Hold:
    """Release the transaction's open hold (HoldError 404 if none), in the caller's write
    transaction; retention may delete it on its next run if its period has passed."""
    by, note = _text("by", by, 256), _text("note", note)
    hold = open_hold(conn, unit_id, txn_id)
    if hold is None:
        raise HoldError("transaction", f"{unit_id}/{txn_id} is not held", status=404)
    conn.execute("UPDATE legal_holds SET released_by = ?, released_utc = ?, release_note = ? "
                 "WHERE hold_id = ?", [by, utc_text(now), note, hold.hold_id])
    return Hold(hold.hold_id, unit_id, txn_id, hold.clip_id, hold.reason, hold.held_by,
                hold.held_utc, by, parse_utc(utc_text(now)), note)
