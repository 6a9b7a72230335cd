"""Versions of the scoring rules: an admin's edit adds one, the newest is in force.

Rules (:class:`~hq.reports.figures.scoring.ScoringRules`) are stored as JSON, one row per
version in ``rpt_score_rules``; :func:`save_rules` adds a version and
:func:`current_rules` returns the newest, or the defaults (version 0).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

from hq.reports.figures.scoring import ScoringRules
from hq.reports.tables.schema import ensure_schema
from hq.storage.models import utc_text


def current_rules(conn: sqlite3.Connection) -> tuple[int, ScoringRules]:
    """(version, rules) in force: the newest saved version, else the defaults as 0."""
    ensure_schema(conn)
    row = conn.execute("SELECT version, rules FROM rpt_score_rules ORDER BY version DESC "
                       "LIMIT 1").fetchone()
    if row is None:
        return 0, ScoringRules()
    return int(row[0]), ScoringRules.model_validate_json(row[1])


def rules_history(conn: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """(version, author, created_utc) of every saved version, newest first."""
    ensure_schema(conn)
    return [(int(r[0]), r[1], r[2]) for r in conn.execute(
        "SELECT version, author, created_utc FROM rpt_score_rules ORDER BY version DESC")]


def save_rules(conn: sqlite3.Connection, rules: ScoringRules | dict[str, object],
               author: str, now: dt.datetime | None = None) -> int:
    """Validate and store ``rules`` as a new version (pydantic errors name the field)."""
    ensure_schema(conn)
    checked = rules if isinstance(rules, ScoringRules) else ScoringRules.model_validate(rules)
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM "
                                   "rpt_score_rules").fetchone()[0])
        conn.execute("INSERT INTO rpt_score_rules (version, rules, author, created_utc) "
                     "VALUES (?, ?, ?, ?)",
                     [version, json.dumps(checked.model_dump(), sort_keys=True), author,
                      utc_text(now or dt.datetime.now(dt.UTC))])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return version
