"""Authoring many organisation records in one transaction (seed-demo, test fixtures).

The same models and writers as :meth:`hq.org.authoring.store.OrgStore.author`, with the config
versions refreshed once at the end instead of after every record, so a fleet of hundreds of
windows and years of shifts is written in seconds. One more record kind exists only here:
``shift_span``, a dated shift given as UTC instants, which may run across local midnight
(a night shift); the pages and imports author shifts by local date and times instead.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from typing import Any

from pydantic import Field, field_validator, model_validator

from hq.org.authoring.store import AUTHORING, OrgStore, bind_unit, shift_refs
from hq.org.config.versions import ConfigVersion, refresh
from hq.org.records.models import NodeId, StaffNo, Strict, check
from hq.storage.models import utc_text

MAX_SHIFT = dt.timedelta(hours=24)


class ShiftSpanIn(Strict):
    """A dated shift as instants (aware datetimes), at most 24 hours long."""

    shift_id: NodeId
    window_id: NodeId
    staff_no: StaffNo
    start_utc: dt.datetime = Field(..., description="Aware start instant.")
    end_utc: dt.datetime = Field(..., description="Aware end instant, after start.")

    @field_validator("start_utc", "end_utc")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        if v.tzinfo is None:
            raise ValueError("must carry a time zone (an instant, not a wall time)")
        return v.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _order(self) -> ShiftSpanIn:
        if not dt.timedelta(0) < self.end_utc - self.start_utc <= MAX_SHIFT:
            raise ValueError("end_utc must be after start_utc, at most 24 hours later")
        return self


def write_shift_span(conn: sqlite3.Connection, s: ShiftSpanIn) -> str:
    """Store one :class:`ShiftSpanIn` (replacing a shift of the same id)."""
    shift_refs(conn, s.window_id, s.staff_no)
    conn.execute("INSERT INTO org_shifts (shift_id, window_id, staff_no, start_utc, end_utc) "
                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (shift_id) DO UPDATE SET "
                 "window_id = excluded.window_id, staff_no = excluded.staff_no, "
                 "start_utc = excluded.start_utc, end_utc = excluded.end_utc",
                 [s.shift_id, s.window_id, s.staff_no, utc_text(s.start_utc),
                  utc_text(s.end_utc)])
    return s.shift_id


def write_many(conn: sqlite3.Connection, records: Iterable[tuple[str, Any]],
               now: dt.datetime) -> list[ConfigVersion]:
    """Validate and store each ``(kind, data)`` in the caller's transaction, then refresh
    the config versions once. Kinds: those of ``OrgStore.author`` and ``shift_span``;
    ``("bind", (unit_id, window_id, bound_at))`` binds a unit. OrgInvalid stops at the
    first bad record (the caller's transaction rolls everything back)."""
    for kind, data in records:
        if kind == "bind":
            bind_unit(conn, *data)
        elif kind == "shift_span":
            write_shift_span(conn, check(ShiftSpanIn, data))
        else:
            model, writer, _ = AUTHORING[kind]
            writer(conn, check(model, data))
    return refresh(conn, now)


def author_many(store: OrgStore, records: Iterable[tuple[str, Any]],
                now: dt.datetime | None = None) -> list[ConfigVersion]:
    """:func:`write_many` in one transaction of ``store``."""
    with store.transaction() as conn:
        return write_many(conn, records, now or dt.datetime.now(dt.UTC))
