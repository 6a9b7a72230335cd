"""The unit's heartbeat to HQ: backlog, disk, firmware, clock and config, every few minutes.

``report_status(runner, now)`` is called once per sync pass; it posts to
``POST /v1/units/status`` when due and never raises, so a failing heartbeat can neither stop
nor delay events and clips (they keep their own backoff). Failure is logged once and
recovery once.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import logging
import shutil
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sync.hq_client import HQClient, HQError
from sync.outbox import Outbox, OutboxError

log = logging.getLogger(__name__)

INTERVAL_S = 300.0
FIRST_AFTER_S = 60.0  # events first after a (re)start; the page learns within a minute
PATH = "/v1/units/status"


class SyncLoop(Protocol):
    """What the heartbeat reads of the sync runner."""

    client: HQClient
    outbox: Outbox
    inbox: Any
    wall: Callable[[], dt.datetime]


@dataclass
class _Beat:
    next_at: float
    failing: bool = False


_BEATS: weakref.WeakKeyDictionary[Any, _Beat] = weakref.WeakKeyDictionary()


def firmware_version() -> str | None:
    try:
        return importlib.metadata.version("counterunit")
    except importlib.metadata.PackageNotFoundError:
        return None


def daemon_clock_synced(data_dir: Path) -> bool | None:
    """The daemon's own view of its wall clock (status/unit.json), None if it has not said."""
    try:
        doc = json.loads((data_dir / "status" / "unit.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    v = doc.get("clock_synced") if isinstance(doc, dict) else None
    return v if isinstance(v, bool) else None


def status_document(outbox: Outbox, inbox: Any, utc: dt.datetime) -> dict[str, Any]:
    """The body of one report (the schema is HQ's UnitStatusIn)."""
    data_dir = outbox.path.parent
    b = outbox.backlog()
    free: int | None = None
    total: int | None = None
    try:
        disk = shutil.disk_usage(data_dir)
        free, total = disk.free, disk.total
    except OSError:
        pass
    current = inbox.current() if inbox is not None else None
    return {
        "utc": utc.isoformat(),
        "backlog": {"events": b.events, "alerts": b.alerts, "clips": b.clips,
                    "clip_bytes": b.clip_bytes,
                    "oldest_utc": b.oldest_utc.isoformat() if b.oldest_utc else None},
        "disk_free_bytes": free, "disk_total_bytes": total,
        "firmware_version": firmware_version(),
        "clock_synced": daemon_clock_synced(data_dir),
        "config_etag": getattr(current, "etag", None),
    }


def report_status(runner: SyncLoop, now: float) -> bool:
    """Post the unit's status if due at monotonic ``now``; True if HQ took one."""
    beat = _BEATS.get(runner)
    if beat is None:
        beat = _BEATS[runner] = _Beat(now + FIRST_AFTER_S)
    if now < beat.next_at:
        return False
    beat.next_at = now + INTERVAL_S
    try:
        doc = status_document(runner.outbox, runner.inbox, runner.wall())
        # The client's plumbing is shared within sync/: same TLS, timeouts, error split.
        resp = runner.client._request("POST", PATH, json=doc)
        if resp.status_code != 204:
            raise runner.client._rejected(resp)
    except (HQError, OutboxError, OSError) as exc:
        if not beat.failing:
            log.warning("unit status not reported to HQ: %s; trying again every %.0f s",
                        exc, INTERVAL_S)
        beat.failing = True
        return False
    if beat.failing:
        log.info("unit status reported to HQ again")
    beat.failing = False
    return True
