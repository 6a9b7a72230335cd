"""HQ's own conditions (disk full, storage failing): raised once per episode, cleared once.

A condition is something an operator must act on at HQ itself, not at a unit. Raising
one that is already raised does nothing (no log flood, no repeated record); clearing it
ends the episode. Each change is logged once (ERROR when raised, INFO when cleared), kept
as an audit record when the audit log can still be written (``actor="hq"``,
``action="hq_condition_raised"``/``"hq_condition_cleared"``, ``object_id`` = the kind),
and handed to every hook: the place HQ's alerting subscribes (``conditions.hooks``). A
raise a hook could not take (its store is on the same full disk) is handed over again
just before the clear.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

DISK_FULL = "disk_full"
STORAGE_FAILING = "storage_failing"

# hook(kind, detail, raised): raised False means the condition cleared.
Hook = Callable[[str, str, bool], None]


class _Audit(Protocol):
    def append(self, *, actor: str, role: str, action: str, object_type: str,
               object_id: str, client: str, detail: str = "") -> object: ...


@dataclass
class HQConditions:
    """The conditions raised now; safe to share across request threads."""

    audit: _Audit | None = None
    hooks: list[Hook] = field(default_factory=list)
    _open: dict[str, str] = field(default_factory=dict)
    _unsent: dict[tuple[str, Hook], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def active(self) -> dict[str, str]:
        """Raised conditions and the detail each was raised with."""
        with self._lock:
            return dict(self._open)

    def raise_hq_condition(self, kind: str, detail: str) -> bool:
        """Start an episode of ``kind``; True if it was not raised already."""
        with self._lock:
            if kind in self._open:
                return False
            self._open[kind] = detail
        log.error("HQ condition %s: %s", kind, detail)
        self._record(kind, detail, raised=True)
        return True

    def clear_hq_condition(self, kind: str, detail: str = "") -> bool:
        """End the episode of ``kind``; True if it was raised."""
        with self._lock:
            if self._open.pop(kind, None) is None:
                return False
        log.info("HQ condition %s cleared%s", kind, f": {detail}" if detail else "")
        self._record(kind, detail, raised=False)
        return True

    def _record(self, kind: str, detail: str, *, raised: bool) -> None:
        action = "hq_condition_raised" if raised else "hq_condition_cleared"
        if self.audit is not None:
            try:
                self.audit.append(actor="hq", role="system", action=action,
                                  object_type="hq_condition", object_id=kind,
                                  client="hq", detail=detail[:512])
            except (sqlite3.Error, OSError, ValueError) as exc:
                # On a full disk the audit log may be just as full: the log line stays.
                log.warning("HQ condition %s not recorded in the audit log: %s", kind, exc)
        for hook in list(self.hooks):
            if not raised and (kind, hook) in self._unsent:
                # The raise could not be handed over (a full disk fails the alert store
                # too): hand it over now, so the episode is on record before its end.
                self._call(hook, kind, self._unsent.pop((kind, hook)), True)
            if not self._call(hook, kind, detail, raised) and raised:
                self._unsent[(kind, hook)] = detail

    @staticmethod
    def _call(hook: Hook, kind: str, detail: str, raised: bool) -> bool:
        try:
            hook(kind, detail, raised)
        except Exception as exc:  # a broken subscriber must not turn a 507 into a 500
            log.warning("HQ condition %s not handed to %r: %s", kind, hook, exc)
            return False
        return True
