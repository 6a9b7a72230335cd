"""Alerts inside one HQ process: the outbox worker, the link key, a connection for the API.

``AlertService.open(root)`` is cheap and starts nothing; ``start()`` starts the outbox
thread (``counterunit hq serve`` and the embedded HQ call it); ``close()`` stops it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from hq.alerts import checks, schema
from hq.alerts.delivery import links
from hq.alerts.delivery.channels import send
from hq.alerts.delivery.worker import Clock, Outbox, Sender
from hq.alerts.recipients import RecipientDirectory, UsersDirectory
from hq.clock import utc_now
from hq.storage.sqlite import connect

log = logging.getLogger(__name__)

_active: AlertService | None = None
# HQ conditions that stop HQ storing what units send: level 2 from the start.
SEVERE_CONDITIONS = frozenset({"disk_full", "storage_failing"})


class AlertService:
    """Everything alerts need at run time, under one HQ data folder."""

    def __init__(self, db_path: Path, key_dir: Path, directory: RecipientDirectory, *,
                 clock: Clock = utc_now, sender: Sender | None = None) -> None:
        self.db_path = db_path
        self.key = links.load_key(key_dir)
        self.directory = directory
        self.clock = clock
        self._sender = sender
        self._conn = connect(db_path)
        self._conn.executescript(";\n".join(schema.STATEMENTS))
        schema.allow_skipped(self._conn)
        self._lock = threading.Lock()
        self.outbox: Outbox | None = None

    @classmethod
    def open(cls, root: Path, directory: RecipientDirectory | None = None, *,
             clock: Clock = utc_now) -> AlertService:
        """Alerts of the HQ data folder ``root`` (users from ``root/users.db``)."""
        if directory is None:
            from hq.accounts.users import UserStore

            directory = UsersDirectory(UserStore(root / "users.db"))
        return cls(root / "events.db", root / "alerts", directory, clock=clock)

    @contextlib.contextmanager
    def db(self) -> Iterator[sqlite3.Connection]:
        """The service's own connection, one caller at a time."""
        with self._lock:
            yield self._conn

    def start(self, interval_s: float = 0.2) -> Outbox:
        """Start delivering (idempotent); also makes this the process's HQ condition sink."""
        global _active
        if self.outbox is None:
            self.outbox = Outbox(self.db_path, self.directory, self.key, clock=self.clock,
                                 sender=self._sender or send)
            self.outbox.start(interval_s)
            log.info("alert outbox started on %s", self.db_path)
        _active = self
        return self.outbox

    def hq_condition(self, kind: str, detail: str, *, cleared: bool = False,
                     level: int = 1, now: dt.datetime | None = None) -> int | None:
        """Raise or clear a condition of HQ itself as an alert thread."""
        with self.db() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                tid = checks.hq_condition(conn, kind, detail, now or self.clock(),
                                          cleared=cleared, level=level)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        return tid

    def condition_hook(self, kind: str, detail: str, raised: bool) -> None:
        """For ``hq.conditions.HQConditions.hooks``: each HQ condition feeds a thread."""
        self.hq_condition(kind, detail, cleared=not raised,
                          level=2 if kind in SEVERE_CONDITIONS else 1)

    def close(self) -> None:
        """Stop the outbox and release connections."""
        global _active
        if _active is self:
            _active = None
        if self.outbox is not None:
            self.outbox.close()
            self.outbox = None
        with self._lock:
            self._conn.close()


def raise_hq_condition(kind: str, detail: str, *, cleared: bool = False,
                       level: int = 1) -> int | None:
    """A condition of HQ itself (``hq_disk``, ...) as an alert thread of the running HQ.

    Returns the thread id, or None when no HQ is running in this process (then the
    condition is only logged).
    """
    service = _active
    if service is None:
        log.warning("HQ condition %s (%s) with no alert service running", kind, detail)
        return None
    return service.hq_condition(kind, detail, cleared=cleared, level=level)
