"""Planned closed / away-on-business periods of a window, authored at HQ.

A period is what the unit's ``[[schedule.states]]`` holds (firmware/config/window.py
``StatePeriod``; docs/window-states.md): a state (``closed`` or ``away``), either weekdays
(weekly) or one local date, a local start and end on that day and a note. HQ keeps them in
``org_window_periods`` (events.db, beside the shifts) in the window's local time, exactly as
the unit reads them, and sends a window's periods in the schedule section of its config
document (hq/org/config/versions.py).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from hq.org.records.errors import OrgInvalid
from hq.org.records.models import DAYS, Day, NodeId, OptId, Strict, split_days

MAX_PERIODS = 64  # the unit's ScheduleConfig.states max_length

PERIOD_SCHEMA = """
CREATE TABLE IF NOT EXISTS org_window_periods (
    period_id TEXT PRIMARY KEY,
    window_id TEXT NOT NULL REFERENCES org_windows (window_id),
    state TEXT NOT NULL CHECK (state IN ('closed', 'away')),
    days TEXT NOT NULL DEFAULT '', on_date TEXT,
    start_local TEXT NOT NULL, end_local TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    CHECK ((days = '') != (on_date IS NULL)), CHECK (end_local > start_local)
);
CREATE INDEX IF NOT EXISTS org_window_periods_window ON org_window_periods (window_id);
"""


def ensure_periods(conn: sqlite3.Connection) -> None:
    """Create the periods table if missing (idempotent)."""
    conn.executescript(PERIOD_SCHEMA)


def _blank_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class PeriodIn(Strict):
    """One planned period at a window, in the window's branch local time."""

    period_id: OptId = None
    window_id: NodeId
    state: Literal["closed", "away"] = Field(
        ..., description="closed (暂停服务) or away on business (外出办公).")
    days: tuple[Day, ...] = Field((), max_length=7, description="Weekdays (a weekly period).")
    date: Annotated[dt.date | None, BeforeValidator(_blank_none)] = Field(
        None, description="One local date (a dated period).")
    start: dt.time = Field(..., description="Local start, HH:MM.")
    end: dt.time = Field(..., description="Local end, HH:MM, after start (same day).")
    note: str = Field("", max_length=64, description="Why (lunch, branch audit ...).")

    @field_validator("days", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return split_days(v)

    @model_validator(mode="after")
    def _when(self) -> PeriodIn:
        if bool(self.days) == (self.date is not None):
            raise ValueError("give either days (weekly) or date (one day), not both or neither")
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%H:%M} must be after start {self.start:%H:%M} "
                             "(a period ends the day it starts)")
        return self


def write_period(conn: sqlite3.Connection, p: PeriodIn) -> str:
    """Add or replace a period; its id defaults to window.state.(date|days).HHMM."""
    if conn.execute("SELECT 1 FROM org_windows WHERE window_id = ?",
                    [p.window_id]).fetchone() is None:
        raise OrgInvalid([f"window_id: no window {p.window_id!r} (author it first)"])
    when = p.date.isoformat() if p.date is not None else "".join(d[:2] for d in p.days)
    period_id = p.period_id or f"{p.window_id}.{p.state}.{when}.{p.start:%H%M}"
    conn.execute("INSERT INTO org_window_periods (period_id, window_id, state, days, on_date, "
                 "start_local, end_local, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                 "ON CONFLICT (period_id) DO UPDATE SET window_id = excluded.window_id, "
                 "state = excluded.state, days = excluded.days, on_date = excluded.on_date, "
                 "start_local = excluded.start_local, end_local = excluded.end_local, "
                 "note = excluded.note",
                 [period_id, p.window_id, p.state, ",".join(p.days),
                  None if p.date is None else p.date.isoformat(), f"{p.start:%H:%M}",
                  f"{p.end:%H:%M}", p.note])
    count = conn.execute("SELECT COUNT(*) FROM org_window_periods WHERE window_id = ?",
                         [p.window_id]).fetchone()[0]
    if count > MAX_PERIODS:
        raise OrgInvalid([f"window_id: window {p.window_id} would have {count} planned "
                          f"periods; a unit takes at most {MAX_PERIODS}"])
    return period_id


def unit_period(row: sqlite3.Row) -> dict[str, Any]:
    """A stored period as the unit's ``schedule.states`` entry (StatePeriod)."""
    out: dict[str, Any] = {"state": row["state"], "start": row["start_local"],
                           "end": row["end_local"]}
    if row["on_date"]:
        out["date"] = row["on_date"]
    else:
        wanted = set(row["days"].split(","))
        out["days"] = [d for d in DAYS if d in wanted]
    if row["note"]:
        out["note"] = row["note"]
    return out


def window_periods(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every window's periods as unit entries in a stable order: weekly ones first, then the
    dated ones by date; by start within each."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute("SELECT * FROM org_window_periods ORDER BY window_id, "
                          "COALESCE(on_date, ''), days, start_local, period_id"):
        out.setdefault(r["window_id"], []).append(unit_period(r))
    return out


def periods_in(conn: sqlite3.Connection, where: str, args: list[Any]) -> list[dict[str, Any]]:
    """Stored periods whose window passes ``where`` (a Scope's window filter), for pages."""
    return [dict(r) for r in conn.execute(
        f"SELECT * FROM org_window_periods WHERE {where} "
        "ORDER BY window_id, COALESCE(on_date, ''), days, start_local", args)]
