"""Wire schema shared by the unit's sync and HQ's ingest: the event envelope.

This is the only module ``hq`` shares with the unit side.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class EventEnvelope(BaseModel):
    """One event as stored on the unit and sent to HQ (idempotent by ``uuid``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uuid: str = Field(..., min_length=32, max_length=36, description="Event id (uuid4).")
    type: str = Field(..., min_length=1, max_length=64, description="Event type.")
    unit_id: str = Field(..., min_length=1, max_length=64, description="Unit that saw it.")
    counter_id: str = Field(..., min_length=1, max_length=64, description="Counter (window).")
    utc: dt.datetime = Field(..., description="UTC wall time (trust only if clock_synced).")
    mono: float = Field(..., description="Unit clock seconds (monotonic; media time in replay).")
    boot_id: str = Field(..., min_length=1, max_length=64, description="Kernel boot id.")
    clock_synced: bool = Field(..., description="Whether the wall clock was synchronised.")
    data: dict[str, Any] = Field(default_factory=dict, description="Type-specific fields.")
