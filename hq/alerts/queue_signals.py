"""Queue threshold events as alert signals (pure): a thread of kind ``queue_length``.

The unit's queue link (firmware/queue_link/alerts.py) sends ``queue_alert_raised`` once
more than ``threshold`` customers of one service have waited for ``for_s``, and
``queue_alert_cleared`` once the count stayed low (hysteresis); both name the episode by
``alert_id``. They open and close one thread per episode through the same state machine,
policies and outbox as off-seat alerts, at level 1.
"""

from __future__ import annotations

from typing import Any

from hq.alerts.signals import Signal
from sync.schema import EventEnvelope

KIND = "queue_length"
RAISED, CLEARED = "queue_alert_raised", "queue_alert_cleared"


def _s(d: dict[str, Any], key: str) -> str | None:
    v = d.get(key)
    return v if isinstance(v, str) and v else None


def _n(d: dict[str, Any], key: str) -> int | None:
    v = d.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def queue_signal(env: EventEnvelope) -> Signal | None:
    """The thread change a queue event carries; None for other events or without an id."""
    if env.type not in (RAISED, CLEARED):
        return None
    d = env.data
    episode = _s(d, "alert_id")
    if episode is None:
        return None
    service = _s(d, "service") or "?"
    waiting, threshold = _n(d, "waiting"), _n(d, "threshold")
    if env.type == RAISED:
        detail = f"service {service}: {waiting if waiting is not None else '?'} waiting " \
                 f"(more than {threshold if threshold is not None else '?'})"
        return Signal(unit_id=env.unit_id, kind=KIND, episode=episode, action="raise",
                      utc=env.utc, level=1, detail=detail)
    peak = _n(d, "peak")
    detail = f"service {service}: back to {waiting if waiting is not None else '?'} waiting" \
             + (f" (peak {peak})" if peak is not None else "")
    return Signal(unit_id=env.unit_id, kind=KIND, episode=episode, action="clear",
                  utc=env.utc, level=1, detail=detail)
