"""The /units page's data: each unit in scope with its window, when it was last heard from,
its backlog, config, firmware, disk and clock, and whether it has gone quiet."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from hq.live.state import OFFLINE_AFTER
from hq.org.config.versions import latest, version_of_etag
from hq.storage.models import parse_utc
from hq.storage.scope import Scope

DEFAULT_SILENT_AFTER = OFFLINE_AFTER  # three missed heartbeats, as on the dashboard


@dataclass(frozen=True)
class UnitOverview:
    """One unit as HQ sees it; None where the unit has not told HQ (yet)."""

    unit_id: str
    window_id: str | None
    window_name: str | None
    hall_id: str | None
    branch_id: str | None
    last_seen_utc: dt.datetime | None  # latest of an event's or a status report's arrival
    last_event_utc: dt.datetime | None  # the newest event's own (unit) time
    backlog_events: int | None
    backlog_alerts: int | None
    backlog_clips: int | None
    backlog_clip_bytes: int | None
    backlog_oldest_utc: dt.datetime | None
    config_version: int | None  # the version of its window's documents it runs
    config_latest: int | None  # the newest version of its window
    config_label: str | None  # the version label the unit reported (any source)
    config_refused_version: int | None
    config_refused_problems: tuple[str, ...]
    config_refused_utc: dt.datetime | None
    firmware_version: str | None
    disk_free_bytes: int | None
    disk_total_bytes: int | None
    clock_synced: bool | None
    status_utc: dt.datetime | None
    silent: bool  # not heard from for longer than the threshold (or never)

    @property
    def config_current(self) -> bool:
        return self.config_latest is not None and self.config_version == self.config_latest


def _t(text: str | None) -> dt.datetime | None:
    return None if not text else parse_utc(text)


_SQL = """
WITH units AS (
    SELECT unit_id FROM org_unit_windows UNION SELECT unit_id FROM org_unit_seen
    UNION SELECT unit_id FROM unit_status
)
SELECT u.unit_id, b.window_id, w.name AS window_name, w.hall_id, h.branch_id,
       s.last_received_utc, s.last_event_utc, st.received_utc, st.unit_utc,
       st.backlog_events, st.backlog_alerts, st.backlog_clips, st.backlog_clip_bytes,
       st.backlog_oldest_utc, st.disk_free_bytes, st.disk_total_bytes, st.firmware_version,
       st.clock_synced, st.config_etag, c.applied_etag, c.applied_version,
       c.refused_etag, c.refused_problems, c.refused_utc
FROM units u
LEFT JOIN org_unit_windows b ON b.unit_id = u.unit_id
LEFT JOIN org_windows w ON w.window_id = b.window_id
LEFT JOIN org_halls h ON h.hall_id = w.hall_id
LEFT JOIN org_unit_seen s ON s.unit_id = u.unit_id
LEFT JOIN unit_status st ON st.unit_id = u.unit_id
LEFT JOIN org_unit_config c ON c.unit_id = u.unit_id
"""


def unit_overview(conn: sqlite3.Connection, scope: Scope, now: dt.datetime,
                  silent_after: dt.timedelta = DEFAULT_SILENT_AFTER) -> list[UnitOverview]:
    """Every unit in ``scope`` (unbound units only for ``all``), by branch, hall, window."""
    where, args = scope.window_filter("b.window_id")
    rows = conn.execute(f"{_SQL} WHERE {where} ORDER BY h.branch_id, w.hall_id, b.window_id, "
                        "u.unit_id", args).fetchall()
    out = []
    for r in rows:
        seen = [t for t in (_t(r["last_received_utc"]), _t(r["received_utc"])) if t]
        last_seen = max(seen) if seen else None
        running = version_of_etag(conn, r["applied_etag"]) if r["applied_etag"] else None
        if running is None and r["config_etag"]:
            running = version_of_etag(conn, r["config_etag"])
        refused = version_of_etag(conn, r["refused_etag"]) if r["refused_etag"] else None
        newest = latest(conn, r["window_id"]) if r["window_id"] else None
        clock = r["clock_synced"]
        out.append(UnitOverview(
            unit_id=r["unit_id"], window_id=r["window_id"], window_name=r["window_name"],
            hall_id=r["hall_id"], branch_id=r["branch_id"], last_seen_utc=last_seen,
            last_event_utc=_t(r["last_event_utc"]),
            backlog_events=r["backlog_events"], backlog_alerts=r["backlog_alerts"],
            backlog_clips=r["backlog_clips"], backlog_clip_bytes=r["backlog_clip_bytes"],
            backlog_oldest_utc=_t(r["backlog_oldest_utc"]),
            config_version=(running[1] if running and running[0] == r["window_id"] else None),
            config_latest=None if newest is None else int(newest["version"]),
            config_label=r["applied_version"],
            config_refused_version=None if refused is None else refused[1],
            config_refused_problems=tuple(json.loads(r["refused_problems"] or "[]")),
            config_refused_utc=_t(r["refused_utc"]),
            firmware_version=r["firmware_version"], disk_free_bytes=r["disk_free_bytes"],
            disk_total_bytes=r["disk_total_bytes"],
            clock_synced=None if clock is None else bool(clock), status_utc=_t(r["unit_utc"]),
            silent=last_seen is None or now - last_seen > silent_after))
    return out
