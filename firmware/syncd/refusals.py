"""Events HQ refuses: set aside by sync, and raised once per episode as a unit alert.

An episode starts with the first event set aside while no ``event_refused`` alert is
open, and ends when the sync process has caught up (no event left to send): then an
``alert_cleared`` says how many were set aside in it. Both are ordinary events of the
unit's own store (priority alert), so HQ and ``counterunit status`` see them as they see
any other alert; the refused events themselves stay in the unit database (see
``sync.outbox.Refusal``) and are counted in ``counterunit status``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from firmware.store import EventContext, Store
from firmware.system.clock import UnitClock, boot_id
from sync.outbox import Refusal

log = logging.getLogger(__name__)

EVENT_REFUSED = "event_refused"


class RefusalAlarm(Protocol):
    """What the sync runner tells about refusals (tests may pass their own)."""

    def refused(self, refusals: Sequence[Refusal]) -> None:
        """These events were just set aside."""

    def caught_up(self) -> None:
        """No event is left to send."""


class StoreRefusalAlarm:
    """Writes ``alert_raised``/``alert_cleared`` of kind ``event_refused`` to the unit store.

    Opened lazily: a unit that never sees a refusal never opens a second writer on the
    daemon's database. Whether an episode is open is read from the store's alerts table,
    so a restarted sync process does not raise it again.
    """

    def __init__(self, db_path: Path, unit_id: str, counter_id: str, *,
                 clock: UnitClock | None = None, boot: str | None = None) -> None:
        self.db_path = db_path
        self.unit_id = unit_id
        self.counter_id = counter_id
        self.clock = clock or UnitClock.live()
        self.boot = boot or boot_id()
        self._store: Store | None = None
        self._count = 0  # set aside in the open episode, as known to this process

    def _open(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_path, EventContext(self.unit_id, self.counter_id,
                                                           self.boot, self.clock))
        return self._store

    def _episode_open(self, store: Store) -> bool:
        return store.conn.execute("SELECT 1 FROM alerts WHERE alert = ? AND cleared_utc "
                                  "IS NULL LIMIT 1", [EVENT_REFUSED]).fetchone() is not None

    def refused(self, refusals: Sequence[Refusal]) -> None:
        if not refusals:
            return
        store = self._open()
        self._count += len(refusals)
        if self._episode_open(store):
            return
        first = refusals[0]
        log.error("HQ refused event %s (%s: %s); %d event(s) set aside, the rest go on",
                  first.uuid, first.field, first.reason, len(refusals))
        store.record("alert_raised", self.clock.now(), {
            "alert": EVENT_REFUSED, "level": 1, "count": len(refusals),
            "uuid": first.uuid, "field": first.field[:128], "reason": first.reason[:300],
            "status": first.status})

    def caught_up(self) -> None:
        if self._store is None or not self._episode_open(self._store):
            return
        log.info("sync caught up; %d event(s) set aside in this episode", self._count)
        self._store.record("alert_cleared", self.clock.now(), {
            "alert": EVENT_REFUSED, "count": self._count})
        self._count = 0

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
