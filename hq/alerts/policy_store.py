"""The alert policy, stored with versions in HQ's database (every change kept)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from hq.alerts import schema
from hq.alerts.policy import PolicyDoc
from hq.storage.models import utc_text


@dataclass(frozen=True)
class StoredPolicy:
    """One version of the policy; version 0 is the built-in default (dashboard only)."""

    version: int
    utc: str | None
    username: str | None
    doc: PolicyDoc


def current(conn: sqlite3.Connection) -> StoredPolicy:
    """The policy in force: the newest stored version, else the default."""
    schema.ensure(conn)
    row = conn.execute("SELECT * FROM alert_policies ORDER BY version DESC LIMIT 1").fetchone()
    if row is None:
        return StoredPolicy(0, None, None, PolicyDoc.model_validate({}))
    return StoredPolicy(row["version"], row["utc"], row["username"],
                        PolicyDoc.model_validate_json(row["doc"]))


def put(conn: sqlite3.Connection, doc: PolicyDoc, username: str, now: dt.datetime) -> int:
    """Store ``doc`` as the new version (already validated); returns its version."""
    schema.ensure(conn)
    cur = conn.execute("INSERT INTO alert_policies (utc, username, doc) VALUES (?, ?, ?)",
                       [utc_text(now), username, json.dumps(doc.model_dump(mode="json"))])
    return int(cur.lastrowid or 0)


def history(conn: sqlite3.Connection, limit: int = 50) -> list[dict[str, object]]:
    """Versions newest first (without their documents)."""
    schema.ensure(conn)
    return [dict(r) for r in conn.execute(
        "SELECT version, utc, username FROM alert_policies ORDER BY version DESC LIMIT ?",
        [limit])]
