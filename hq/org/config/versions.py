"""Config versions: after every authoring change, each window whose document changed gets
a new version; its units pull that version (GET /v1/config) by its ETag.

Sections (see :mod:`hq.org.config.document`): the roster once the organisation has any
staff (a window's roster is the active staff with a badge whose home branch is the window's
branch, staff with no home branch, and anyone scheduled at the window); the schedule when
the window has weekly shift templates (their hours, whatever their dates) or planned
closed/away periods (:mod:`hq.org.schedules.periods`; ``states``); rules when any are
authored at the window or above it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from hq.org.config.document import (
    SECTIONS,
    ZONE_ROLES,
    StaffRow,
    build_document,
    check_document,
    content_digest,
    encode,
    resolve_rules,
    roster_entry,
)
from hq.org.records.errors import OrgInvalid
from hq.org.records.models import DEFAULT_SALT, RULE_FIELDS
from hq.org.schedules.periods import window_periods
from hq.org.schedules.shifts import opening_hours
from hq.storage.models import utc_text
from hq.storage.org_schema import window_of_unit

# org_zones columns a unit's zone takes (firmware.config.unit.ZoneConfig; identity stays the
# unit's default).
ZONE_FIELDS = ("x0", "y0", "x1", "y1", "enter_dwell_s", "exit_hold_s")


@dataclass(frozen=True)
class ConfigVersion:
    """One version of a window's document."""

    window_id: str
    version: int
    sha256: str  # of the bytes served: the ETag, without quotes
    sections: tuple[str, ...]
    created_utc: str


def setting(conn: sqlite3.Connection, key: str, default: str) -> str:
    row = conn.execute("SELECT value FROM org_settings WHERE key = ?", [key]).fetchone()
    return default if row is None else str(row[0])


def badge_salt(conn: sqlite3.Connection) -> str:
    """The salt of the roster's badge hashes (must be the units' roster.uid_salt)."""
    return setting(conn, "badge_uid_salt", DEFAULT_SALT)


def window_documents(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Every window's document content (version label still empty)."""
    windows = conn.execute("SELECT w.window_id, w.hall_id, h.branch_id FROM org_windows w "
                           "JOIN org_halls h ON h.hall_id = w.hall_id").fetchall()
    any_staff = conn.execute("SELECT 1 FROM org_staff LIMIT 1").fetchone() is not None
    salt = badge_salt(conn)
    by_home: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute("SELECT * FROM org_staff WHERE active = 1"):
        entry = roster_entry(StaffRow(r["staff_no"], r["name"], r["badge_uid"], r["photo_id"]),
                             salt)
        if entry is not None:
            by_home[r["home_branch_id"]].append(entry)
    entries = {e["staff_id"]: e for es in by_home.values() for e in es}
    assigned: dict[str, set[str]] = defaultdict(set)
    for r in conn.execute("SELECT window_id, staff_no FROM org_shift_templates UNION "
                          "SELECT DISTINCT window_id, staff_no FROM org_shifts"):
        assigned[r[0]].add(r[1])
    templates: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in conn.execute("SELECT window_id, days, start_local, end_local "
                          "FROM org_shift_templates"):
        templates[r[0]].append((r[1], r[2], r[3]))
    rules = {(r["level"], r["node_id"]): {k: r[k] for k in RULE_FIELDS}
             for r in conn.execute("SELECT * FROM org_rules")}
    zones: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for r in conn.execute("SELECT * FROM org_zones"):
        zones[r["window_id"]][r["name"]] = {k: r[k] for k in ZONE_FIELDS}
    periods = window_periods(conn)
    docs = {}
    # Windows of a branch with nobody from elsewhere scheduled share one roster list, so
    # refresh() encodes it once (see content_digest's memo).
    rosters: dict[tuple[str, frozenset[str]], list[dict[str, Any]]] = {}
    for w in windows:
        wid, branch = w["window_id"], w["branch_id"]
        roster = None
        if any_staff:
            home = {e["staff_id"] for e in by_home[branch]} | {
                e["staff_id"] for e in by_home[None]}
            extra = frozenset(s for s in assigned.get(wid, ()) if s in entries and s not in home)
            key = (branch, extra)
            if key not in rosters:
                rosters[key] = sorted([*by_home[branch], *by_home[None],
                                       *(entries[s] for s in extra)],
                                      key=lambda e: str(e["staff_id"]))
            roster = rosters[key]
        layers = [rules.get(("org", "")), rules.get(("branch", branch)),
                  rules.get(("hall", w["hall_id"])), rules.get(("window", wid))]
        try:
            resolved = resolve_rules(layers)
        except ValueError as exc:
            raise OrgInvalid([f"rules as they apply to window {wid}: {exc}"]) from None
        # A window's zones go out once both roles are authored: the unit refuses half a set.
        own = zones.get(wid, {})
        docs[wid] = build_document("", roster, opening_hours(templates[wid]), resolved,
                                   own if own.keys() >= ZONE_ROLES else None,
                                   planned_states(conn, wid, periods.get(wid, [])))
    return docs


def planned_states(conn: sqlite3.Connection, window_id: str,
                   periods: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The window's ``schedule.states``: its periods; ``[]`` once its last one is deleted
    (the window's newest version still carries the key), so the unit drops them too; None
    for a window that never had any (the unit keeps its own unit.toml periods)."""
    if periods:
        return periods
    row = latest(conn, window_id)
    if row is None or "schedule" not in row["sections"].split(","):
        return None
    # Only schedule.states is a list under that key (a zone named "states" is an object);
    # a byte search spares decoding every window's roster on every refresh.
    return [] if b'"states":[' in bytes(row["body"]) else None


def latest(conn: sqlite3.Connection, window_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM org_config_versions WHERE window_id = ? "
                        "ORDER BY version DESC LIMIT 1", [window_id]).fetchone()


def refresh(conn: sqlite3.Connection, now: dt.datetime) -> list[ConfigVersion]:
    """New versions for the windows whose document changed, inside the caller's transaction.

    Raises OrgInvalid (and the caller rolls the change back) when a document would be one
    the unit refuses, e.g. rules whose resolved off-seat levels are not ascending.
    """
    made = []
    memo: dict[int, str] = {}
    for wid, doc in window_documents(conn).items():
        digest = content_digest(doc, memo)
        last = latest(conn, wid)
        if last is not None and last["content_sha256"] == digest:
            continue
        sections = tuple(k for k in SECTIONS if k in doc)
        if last is None and not sections:
            continue
        version = 1 if last is None else int(last["version"]) + 1
        doc = {**doc, "version": str(version)}
        check_document(doc, f"window {wid}")
        body = encode(doc)
        sha = hashlib.sha256(body).hexdigest()
        conn.execute("INSERT INTO org_config_versions (window_id, version, sha256, "
                     "content_sha256, sections, body, created_utc) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [wid, version, sha, digest, ",".join(sections), body, utc_text(now)])
        made.append(ConfigVersion(wid, version, sha, sections, utc_text(now)))
    return made


def served_document(conn: sqlite3.Connection, unit_id: str) -> bytes | None:
    """The bytes a unit pulls: its window's latest version, or None (unbound, nothing
    authored for it: HQ falls back to its config files)."""
    window = window_of_unit(conn, unit_id)
    if window is None:
        return None
    row = latest(conn, window)
    if row is None or not row["sections"]:
        return None
    return bytes(row["body"])


def versions_of(conn: sqlite3.Connection, window_id: str) -> list[ConfigVersion]:
    """A window's versions, newest first."""
    return [ConfigVersion(r["window_id"], r["version"], r["sha256"],
                          tuple(s for s in r["sections"].split(",") if s), r["created_utc"])
            for r in conn.execute("SELECT * FROM org_config_versions WHERE window_id = ? "
                                  "ORDER BY version DESC", [window_id])]


def version_of_etag(conn: sqlite3.Connection, etag: str) -> tuple[str, int] | None:
    """(window, version) of the document served with ``etag`` (quotes optional)."""
    row = conn.execute("SELECT window_id, version FROM org_config_versions WHERE sha256 = ?",
                       [etag.strip().removeprefix("W/").strip('"')]).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def document(conn: sqlite3.Connection, window_id: str, version: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT body FROM org_config_versions WHERE window_id = ? AND "
                       "version = ?", [window_id, version]).fetchone()
    return None if row is None else dict(json.loads(bytes(row[0])))
