"""Window states at HQ: ``window_state`` events -> time open / closed / away in the rollups.

The ingest hook :func:`apply` (called from ``hq.storage.projection.project`` inside the
ingest transaction) files each ``window_state`` event as the start of a segment that
lasts until the unit's next one (docs/window-states.md), then re-settles the segment it
starts and the one it ends, so an event arriving late or out of order corrects the
figures instead of adding to them. A segment adds ``ws_<state>_s`` seconds, split at the
branch's local midnights, to the window and the staff member it was counted for;
``off`` (outside opening hours, unit stopped) adds nothing. An away segment also
re-settles that staff member's shifts it overlaps: attendance counts it like business
leave (:func:`hq.reports.ingest.entities.shift`).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from hq.reports.figures.periods import split_by_day
from hq.reports.ingest.entities import window_tz
from hq.reports.ingest.shifts import refresh_shifts
from hq.reports.tables import wstates
from hq.reports.tables.rollup import Contribution, add, settle
from hq.reports.tables.schema import ensure_schema
from hq.storage.models import parse_utc, utc_text
from sync.schema import EventEnvelope

EVENT = "window_state"


def _s(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    return v if isinstance(v, str) and v else None


def apply(conn: sqlite3.Connection, env: EventEnvelope, window_id: str | None) -> None:
    """Roll one newly stored ``window_state`` event into the rollups (other types pass)."""
    if env.type != EVENT or window_id is None:
        return
    state = _s(env.data, "state")
    if state is None:
        return
    ensure_schema(conn)
    wstates.ensure(conn)
    utc = utc_text(env.utc)
    conn.execute("INSERT INTO rpt_wstates (unit_id, utc, uuid, state, staff_no, window_id) "
                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                 [env.unit_id, utc, env.uuid, state, _s(env.data, "staff_id"), window_id])
    prev = conn.execute("SELECT utc, uuid FROM rpt_wstates WHERE unit_id = ? AND (utc < ? OR "
                        "(utc = ? AND uuid < ?)) ORDER BY utc DESC, uuid DESC LIMIT 1",
                        [env.unit_id, utc, utc, env.uuid]).fetchone()
    for seg_utc, seg_uuid in ([tuple(prev)] if prev else []) + [(utc, env.uuid)]:
        _settle(conn, env.unit_id, seg_utc, seg_uuid)


def _settle(conn: sqlite3.Connection, unit_id: str, utc: str, uuid: str) -> None:
    row = conn.execute("SELECT state, staff_no, window_id FROM rpt_wstates WHERE unit_id = ? "
                       "AND utc = ? AND uuid = ?", [unit_id, utc, uuid]).fetchone()
    if row is None:
        return
    end = wstates.segment_end(conn, unit_id, utc, uuid)
    settle(conn, f"ws:{unit_id}:{utc}:{uuid}",
           segment(row[0], row[1], row[2], utc, end, window_tz(conn, row[2])))
    if row[0] == "away" and row[1] and end is not None:
        refresh_shifts(conn, row[1], parse_utc(utc), parse_utc(end))


def segment(state: str, staff_no: str | None, window_id: str, start_utc: str,
            end_utc: str | None, tz: str) -> Contribution:
    """What one segment adds (pure): ``ws_<state>_s`` per local day; nothing while open-ended
    or for a state that is not counted."""
    c: Contribution = {}
    if end_utc is None or state not in wstates.STATES:
        return c
    for day, seconds in split_by_day(parse_utc(start_utc), parse_utc(end_utc), tz):
        add(c, day, window_id, staff_no, f"ws_{state}_s", seconds)
    return c
