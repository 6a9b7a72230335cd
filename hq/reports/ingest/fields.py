"""Reading an event's data fields as the reports file them: absent or mistyped is None."""

from __future__ import annotations

from typing import Any


def text_of(d: dict[str, Any], key: str) -> str | None:
    """A non-empty string field, else None."""
    v = d.get(key)
    return v if isinstance(v, str) and v else None


def number_of(d: dict[str, Any], key: str) -> float | None:
    """A numeric field (not a bool) as float, else None."""
    v = d.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
