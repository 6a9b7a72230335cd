"""Tables of the organisation tree, in HQ's database (the same SQLite file as events).

They live beside the event tables so that every query joins them in one statement and
ingest files an event under its window in the same transaction that stores it.
Times are UTC text as :func:`hq.storage.models.utc_text` writes it; each branch names
its IANA time zone, in which its days, shifts and reports are read.

Besides the tree: settings (the badge UID salt), weekly shift templates (expanded into
dated ``org_shifts`` rows whose id starts ``t:<template_id>:``), rules per node, zones per
window, the config version each window's units are served, what each unit said of it
(``config_applied``/``config_refused``), when each unit was last heard from, and the
status it posts (``POST /v1/units/status``). Written by :mod:`hq.org`.
"""

from __future__ import annotations

import logging
import sqlite3

log = logging.getLogger(__name__)

ORG_SCHEMA = """
CREATE TABLE IF NOT EXISTS org_branches (
    branch_id TEXT PRIMARY KEY, name TEXT NOT NULL, tz TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS org_halls (
    hall_id TEXT PRIMARY KEY,
    branch_id TEXT NOT NULL REFERENCES org_branches (branch_id),
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_halls_branch ON org_halls (branch_id);
CREATE TABLE IF NOT EXISTS org_windows (
    window_id TEXT PRIMARY KEY,
    hall_id TEXT NOT NULL REFERENCES org_halls (hall_id),
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_windows_hall ON org_windows (hall_id);
CREATE TABLE IF NOT EXISTS org_unit_windows (
    unit_id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES org_windows (window_id),
    bound_utc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_unit_windows_window ON org_unit_windows (window_id);
CREATE TABLE IF NOT EXISTS org_staff (
    staff_no TEXT PRIMARY KEY, name TEXT NOT NULL,
    home_branch_id TEXT REFERENCES org_branches (branch_id),
    badge_uid TEXT, photo_id TEXT, active INTEGER NOT NULL DEFAULT 1,
    phone TEXT, email TEXT, im_id TEXT
);
CREATE TABLE IF NOT EXISTS org_shifts (
    shift_id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES org_windows (window_id),
    staff_no TEXT NOT NULL REFERENCES org_staff (staff_no),
    start_utc TEXT NOT NULL, end_utc TEXT NOT NULL,
    CHECK (end_utc > start_utc)
);
CREATE INDEX IF NOT EXISTS org_shifts_window ON org_shifts (window_id, start_utc);
CREATE INDEX IF NOT EXISTS org_shifts_staff ON org_shifts (staff_no, start_utc);
CREATE TABLE IF NOT EXISTS org_leave (
    leave_id TEXT PRIMARY KEY,
    staff_no TEXT NOT NULL REFERENCES org_staff (staff_no),
    kind TEXT NOT NULL CHECK (kind IN ('leave', 'business')),
    start_utc TEXT NOT NULL, end_utc TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    CHECK (end_utc > start_utc)
);
CREATE INDEX IF NOT EXISTS org_leave_staff ON org_leave (staff_no, start_utc);
CREATE TABLE IF NOT EXISTS org_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS org_shift_templates (
    template_id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES org_windows (window_id),
    staff_no TEXT NOT NULL REFERENCES org_staff (staff_no),
    days TEXT NOT NULL, start_local TEXT NOT NULL, end_local TEXT NOT NULL,
    valid_from TEXT NOT NULL, valid_to TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS org_templates_window ON org_shift_templates (window_id);
CREATE TABLE IF NOT EXISTS org_rules (
    level TEXT NOT NULL CHECK (level IN ('org', 'branch', 'hall', 'window')),
    node_id TEXT NOT NULL,
    rating_window_s REAL, off_seat_l1_s REAL, off_seat_l2_s REAL, off_seat_l3_s REAL,
    min_transaction_s REAL,
    PRIMARY KEY (level, node_id)
);
CREATE TABLE IF NOT EXISTS org_zones (
    window_id TEXT NOT NULL REFERENCES org_windows (window_id),
    name TEXT NOT NULL,
    x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
    enter_dwell_s REAL NOT NULL, exit_hold_s REAL NOT NULL,
    PRIMARY KEY (window_id, name)
);
CREATE TABLE IF NOT EXISTS org_config_versions (
    window_id TEXT NOT NULL, version INTEGER NOT NULL,
    sha256 TEXT NOT NULL, content_sha256 TEXT NOT NULL, sections TEXT NOT NULL,
    body BLOB NOT NULL,
    created_utc TEXT NOT NULL,
    PRIMARY KEY (window_id, version)
);
CREATE INDEX IF NOT EXISTS org_config_sha ON org_config_versions (sha256);
CREATE TABLE IF NOT EXISTS org_unit_config (
    unit_id TEXT PRIMARY KEY,
    applied_etag TEXT, applied_version TEXT, applied_utc TEXT,
    refused_etag TEXT, refused_problems TEXT, refused_utc TEXT
);
CREATE TABLE IF NOT EXISTS org_unit_seen (
    unit_id TEXT PRIMARY KEY, last_received_utc TEXT NOT NULL, last_event_utc TEXT
);
CREATE TABLE IF NOT EXISTS unit_status (
    unit_id TEXT PRIMARY KEY, received_utc TEXT NOT NULL, unit_utc TEXT,
    backlog_events INTEGER, backlog_alerts INTEGER, backlog_clips INTEGER,
    backlog_clip_bytes INTEGER, backlog_oldest_utc TEXT,
    disk_free_bytes INTEGER, disk_total_bytes INTEGER, firmware_version TEXT,
    clock_synced INTEGER, config_etag TEXT
);
"""


# Columns added to org_staff after its first release: how an alert reaches the staff
# member it is about. CREATE TABLE above has them for new files; older files get them here.
STAFF_CONTACT_COLUMNS = ("phone", "email", "im_id")


def add_staff_contact(conn: sqlite3.Connection) -> list[str]:
    """Add the contact columns an older ``org_staff`` lacks (idempotent); returns those added.

    One small step on its own so that it can become a migration revision as it stands.
    Safe inside an open transaction (ALTER TABLE ADD COLUMN, no executescript).
    """
    have = {r[1] for r in conn.execute("PRAGMA table_info(org_staff)")}
    added = [c for c in STAFF_CONTACT_COLUMNS if have and c not in have]
    for column in added:  # names from the tuple above, never user text
        conn.execute(f"ALTER TABLE org_staff ADD COLUMN {column} TEXT")
    if added:
        log.info("org_staff upgraded in place: added contact column(s) %s", ", ".join(added))
    return added


def ensure(conn: sqlite3.Connection) -> None:
    """Create the organisation's tables if missing and bring older ones up to date."""
    conn.executescript(ORG_SCHEMA)
    add_staff_contact(conn)


def window_of_unit(conn: sqlite3.Connection, unit_id: str) -> str | None:
    """The window a unit is bound to now, or None for a unit not (yet) bound."""
    row = conn.execute("SELECT window_id FROM org_unit_windows WHERE unit_id = ?",
                       [unit_id]).fetchone()
    return None if row is None else str(row[0])
