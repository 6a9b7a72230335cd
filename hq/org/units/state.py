"""What HQ knows of each unit besides its events: last heard from, the config it runs or
refused (projected at ingest from ``config_applied`` / ``config_refused``), and the status
its sync process posts (``POST /v1/units/status``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hq.org.config.versions import version_of_etag
from hq.storage.models import utc_text
from sync.schema import EventEnvelope


def _str(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    return v[:200] if isinstance(v, str) else None


def seen(conn: sqlite3.Connection, unit_id: str, event_utcs: list[str],
         now: dt.datetime | None = None) -> None:
    """Mark ``unit_id`` heard from now, its newest event at the latest of ``event_utcs``
    (the events a batch stored; nothing when it stored none).

    Called once per ingest batch (hq/storage/events.py), not per event: the row ends the
    same (received now, the latest unit time kept) for one statement instead of one per
    event."""
    if not event_utcs:
        return
    received = utc_text(now or dt.datetime.now(dt.UTC))
    conn.execute(
        "INSERT INTO org_unit_seen (unit_id, last_received_utc, last_event_utc) VALUES (?, ?, ?) "
        "ON CONFLICT (unit_id) DO UPDATE SET last_received_utc = excluded.last_received_utc, "
        "last_event_utc = MAX(COALESCE(org_unit_seen.last_event_utc, ''), "
        "excluded.last_event_utc)", [unit_id, received, max(event_utcs)])


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Ingest hook (hq/storage/projection.py), inside the event's own transaction.

    ``config_applied`` sets the version the unit runs, ``config_refused`` the one it
    refused and why (that the unit was heard from is :func:`seen`, once per batch). An
    outcome older (by unit time) than the one stored does not replace it, so late
    arrivals change nothing. A later applied config clears a refusal: the unit has moved
    on.
    """
    if env.type not in ("config_applied", "config_refused"):
        return
    utc = utc_text(env.utc)
    etag = _str(env.data, "etag") or ""
    conn.execute("INSERT INTO org_unit_config (unit_id) VALUES (?) ON CONFLICT DO NOTHING",
                 [env.unit_id])
    if env.type == "config_applied":
        label = _str(env.data, "version") or ""
        conn.execute(
            "UPDATE org_unit_config SET applied_etag = ?, applied_version = ?, applied_utc = ?,"
            " refused_etag = CASE WHEN refused_utc <= ? THEN NULL ELSE refused_etag END,"
            " refused_problems = CASE WHEN refused_utc <= ? THEN NULL ELSE refused_problems END,"
            " refused_utc = CASE WHEN refused_utc <= ? THEN NULL ELSE refused_utc END "
            "WHERE unit_id = ? AND COALESCE(applied_utc, '') <= ?",
            [etag, label, utc, utc, utc, utc, env.unit_id, utc])
    else:
        raw = env.data.get("problems")
        problems = [str(p)[:300] for p in raw[:50]] if isinstance(raw, list) else []
        conn.execute(
            "UPDATE org_unit_config SET refused_etag = ?, refused_problems = ?, "
            "refused_utc = ? WHERE unit_id = ? AND COALESCE(refused_utc, '') <= ? "
            "AND COALESCE(applied_utc, '') <= ?",
            [etag, json.dumps(problems, ensure_ascii=False), utc, env.unit_id, utc, utc])


class BacklogIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: int = Field(..., ge=0, le=1 << 40, description="Events not yet acknowledged.")
    alerts: int = Field(0, ge=0, le=1 << 40, description="Of those, alerts.")
    clips: int = Field(0, ge=0, le=1 << 40, description="Clips not yet uploaded.")
    clip_bytes: int = Field(0, ge=0, le=1 << 62, description="Their bytes.")
    oldest_utc: dt.datetime | None = Field(None, description="When the oldest was queued.")


class UnitStatusIn(BaseModel):
    """What a unit's sync process reports every few minutes."""

    model_config = ConfigDict(extra="forbid")
    utc: dt.datetime = Field(..., description="The unit's wall clock when it sent this.")
    backlog: BacklogIn
    disk_free_bytes: int | None = Field(None, ge=0, le=1 << 62)
    disk_total_bytes: int | None = Field(None, ge=0, le=1 << 62)
    firmware_version: str | None = Field(None, max_length=64)
    clock_synced: bool | None = Field(None, description="Kernel says NTP-disciplined.")
    config_etag: str | None = Field(None, max_length=80,
                                    description="ETag of the HQ config in force on the unit.")


def record_status(conn: sqlite3.Connection, unit_id: str, s: UnitStatusIn,
                  now: dt.datetime) -> None:
    """Replace the unit's last status (one row per unit)."""
    b = s.backlog

    def opt_utc(t: dt.datetime | None) -> str | None:
        return None if t is None else utc_text(t)

    conn.execute(
        "INSERT OR REPLACE INTO unit_status (unit_id, received_utc, unit_utc, backlog_events, "
        "backlog_alerts, backlog_clips, backlog_clip_bytes, backlog_oldest_utc, "
        "disk_free_bytes, disk_total_bytes, firmware_version, clock_synced, config_etag) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [unit_id, utc_text(now), opt_utc(s.utc), b.events, b.alerts, b.clips, b.clip_bytes,
         opt_utc(b.oldest_utc), s.disk_free_bytes, s.disk_total_bytes, s.firmware_version,
         None if s.clock_synced is None else int(s.clock_synced), s.config_etag])


def refused_version(conn: sqlite3.Connection, etag: str | None) -> int | None:
    if not etag:
        return None
    found = version_of_etag(conn, etag)
    return None if found is None else found[1]
