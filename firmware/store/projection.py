"""Keep the query tables (transactions, ratings, absences, ...) in step with events.

Called inside the event's own SQLite transaction, so a table row never exists
without its event, nor an event without its row.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .sql import insert, update


def project(db: sqlite3.Connection, type_: str, uuid: str, utc: str, t: float,
            d: dict[str, Any]) -> None:
    """Apply one event to the query tables; event types without a table are ignored."""
    if type_ == "login":
        insert(db, "staff_sessions", {
            "session_id": d["session_id"], "staff_id": d["staff_id"], "name": d.get("name"),
            "staff_number": d.get("staff_number"), "login_utc": utc, "login_t": t})
    elif type_ == "logout" and d.get("session_id"):
        update(db, "staff_sessions", "session_id", d["session_id"], {
            "logout_utc": utc, "logout_t": t, "logout_reason": d.get("reason")})
    elif type_ == "transaction_started":
        insert(db, "transactions", {
            "txn_id": d["txn_id"], "staff_id": d.get("staff_id"),
            "session_id": d.get("session_id"), "started_utc": utc, "started_t": t,
            "clip_id": d.get("clip_id")})
    elif type_ == "transaction_ended":
        update(db, "transactions", "txn_id", d["txn_id"], {
            "ended_utc": utc, "ended_t": t, "duration_s": d.get("duration_s"),
            "end_reason": d.get("reason")})
    elif type_ == "rating":
        insert(db, "ratings", {
            "uuid": uuid, "txn_id": d.get("txn_id"), "staff_id": d.get("staff_id"),
            "outcome": d["outcome"], "rating": d.get("rating"), "key": d.get("key"),
            "suspect": int(bool(d.get("suspect"))), "trigger": d.get("trigger"),
            "utc": utc, "t": t})
        txn_id = d.get("txn_id")
        if txn_id:
            # The first rating outcome of a transaction is its rating.
            db.execute(
                "UPDATE transactions SET rating = ?, rating_outcome = ?, rating_suspect = ? "
                "WHERE txn_id = ? AND rating_outcome IS NULL",
                [d.get("rating"), d["outcome"], int(bool(d.get("suspect"))), txn_id])
    elif type_ == "absence_started":
        insert(db, "absences", {
            "absence_id": d["absence_id"], "staff_id": d.get("staff_id"), "started_utc": utc,
            "started_t": t, "clip_id": d.get("clip_id"), "max_level": 0})
    elif type_ == "absence_ended":
        update(db, "absences", "absence_id", d["absence_id"], {
            "ended_utc": utc, "ended_t": t, "duration_s": d.get("duration_s"),
            "max_level": d.get("max_level"), "end_reason": d.get("reason", "returned")})
    elif type_ == "alert_raised":
        insert(db, "alerts", {
            "uuid": uuid, "alert": d["alert"], "level": d.get("level"),
            "absence_id": d.get("absence_id"), "txn_id": d.get("txn_id"),
            "staff_id": d.get("staff_id"), "raised_utc": utc, "raised_t": t})
    elif type_ == "alert_cleared" and d.get("alert") and not d.get("absence_id"):
        # Unit-wide alerts (disk) clear by kind.
        db.execute("UPDATE alerts SET cleared_utc = ?, cleared_t = ? "
                   "WHERE alert = ? AND cleared_utc IS NULL", [utc, t, d["alert"]])
    elif type_ == "alert_cleared" and d.get("absence_id"):
        db.execute("UPDATE alerts SET cleared_utc = ?, cleared_t = ? "
                   "WHERE absence_id = ? AND cleared_utc IS NULL", [utc, t, d["absence_id"]])
