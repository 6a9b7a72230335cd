"""Wire schema shared by the unit's sync and HQ's ingest: the event envelope.

This is the only module ``hq`` shares with the unit side. Every field is bounded to what
HQ can store (SQLite: int64 integers, finite REALs, text), so an envelope that validates
here is one HQ can keep; one that does not is refused by itself, never with its batch.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

# SQLite's INTEGER is a signed 64-bit number; a larger Python int cannot be bound.
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
# Wall times a unit can report: 1970 is where a unit without a real-time clock starts
# before NTP (clock_synced says whether to trust it); 2100 is far past any unit's life.
UTC_MIN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
UTC_MAX = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
MONO_LIMIT_S = 1e12  # ~31,700 years of uptime either way
MAX_TEXT = 8192  # one string anywhere in ``data`` (config problems quote values)
MAX_ID = 128  # an id inside ``data`` (``*_id`` keys)
MAX_KEY = 128
MAX_ITEMS = 1000  # entries of one list or object inside ``data``
MAX_DEPTH = 8
# Unicode categories that never belong in an id: controls, format characters (the bidi
# overrides and isolates U+202A..U+202E, U+2066..U+2069, zero-width joiners...), line and
# paragraph separators, surrogates, private use and unassigned code points.
_BAD_ID_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an id (a control or bidi character, by position), else None."""
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in _BAD_ID_CATEGORIES:
            return f"character U+{ord(ch):04X} at position {i} is a control or format " \
                   "(bidi) character, not allowed in an id"
    return None


def _walk(value: Any, path: str, depth: int, is_id: bool) -> tuple[str, str] | None:
    """(path, reason) of the first value HQ could not store faithfully, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            # bit_length, not str(): a huge int may not even convert to text.
            return path, f"integer of {value.bit_length()} bits is outside SQLite's " \
                         "int64 range"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"{value} is not a finite number")
    if isinstance(value, str):
        limit = MAX_ID if is_id else MAX_TEXT
        if len(value) > limit:
            return path, f"text of {len(value)} characters is over the limit of {limit}"
        if is_id and (why := id_problem(value)):
            return path, why
        return None
    if depth >= MAX_DEPTH:
        return path, f"nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, list):
        if len(value) > MAX_ITEMS:
            return path, f"{len(value)} items is over the limit of {MAX_ITEMS}"
        for i, item in enumerate(value):
            if found := _walk(item, f"{path}.{i}", depth + 1, is_id):
                return found
        return None
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            return path, f"{len(value)} keys is over the limit of {MAX_ITEMS}"
        for key, item in value.items():
            if not isinstance(key, str) or len(key) > MAX_KEY or id_problem(key):
                return path, f"key {str(key)[:40]!r} must be text of at most {MAX_KEY} " \
                             "characters without control or bidi characters"
            if found := _walk(item, f"{path}.{key}", depth + 1, key.endswith("_id")):
                return found
        return None
    return path, f"a {type(value).__name__} is not a JSON value"


def data_problem(data: dict[str, Any]) -> tuple[str, str] | None:
    """The first field of ``data`` out of HQ's stored range, as (``data.key...``, reason).

    Recursive: integers within int64, floats finite, strings bounded, ids (keys ending
    in ``_id``) without control or bidi characters, bounded size and depth.
    """
    return _walk(data, "data", 0, False)


def _check_id(value: str) -> str:
    if why := id_problem(value):
        raise ValueError(why)
    return value


class EventEnvelope(BaseModel):
    """One event as stored on the unit and sent to HQ (idempotent by ``uuid``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uuid: str = Field(..., min_length=32, max_length=36, pattern=r"^[0-9A-Fa-f-]+$",
                      description="Event id (uuid4: 32 hex digits, hyphens allowed).")
    type: str = Field(..., min_length=1, max_length=64, description="Event type.")
    unit_id: str = Field(..., min_length=1, max_length=64, description="Unit that saw it.")
    counter_id: str = Field(..., min_length=1, max_length=64, description="Counter (window).")
    utc: dt.datetime = Field(..., description="UTC wall time (trust only if clock_synced); "
                             "1970..2100 once converted to UTC; no offset means UTC.")
    mono: float = Field(..., allow_inf_nan=False, ge=-MONO_LIMIT_S, le=MONO_LIMIT_S,
                        description="Unit clock seconds (monotonic; media time in replay).")
    boot_id: str = Field(..., min_length=1, max_length=64, description="Kernel boot id.")
    clock_synced: bool = Field(..., description="Whether the wall clock was synchronised.")
    data: dict[str, Any] = Field(
        default_factory=dict, description="Type-specific fields: integers within int64, "
        "finite numbers, text up to 8192 characters, ids (`*_id`) without control or bidi "
        "characters, at most 8 levels deep.")

    @field_validator("type", "unit_id", "counter_id", "boot_id")
    @classmethod
    def _plain_id(cls, value: str) -> str:
        return _check_id(value)

    @field_validator("utc")
    @classmethod
    def _sane_utc(cls, value: dt.datetime) -> dt.datetime:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        try:
            as_utc = aware.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            as_utc = None  # year 1 with a positive offset falls before datetime.min
        if as_utc is None or not UTC_MIN <= as_utc < UTC_MAX:
            raise ValueError(f"{value.isoformat()} is outside {UTC_MIN.year}..{UTC_MAX.year} "
                             "once converted to UTC")
        return value

    @field_validator("data")
    @classmethod
    def _storable(cls, value: dict[str, Any]) -> dict[str, Any]:
        if found := data_problem(value):
            path, reason = found
            raise PydanticCustomError("data_range", "{path}: {reason}",
                                      {"path": path, "reason": reason})
        return value
