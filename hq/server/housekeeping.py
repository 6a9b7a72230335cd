"""Housekeeping once per HQ however many workers serve it: jobs run under a lease.

Each worker starts a :class:`Housekeeper` with the same job factories (upload expiry, the
retention run, the alert outbox). Every ``renew_s`` it asks the database for the
``housekeeping`` lease (:mod:`hq.server.lease`); the worker that holds it runs the jobs,
the others only keep asking (a holder on this machine whose process is gone is not
waited out: a restarted HQ delivers alerts at once). A holder that cannot renew (the
database is gone, or a sibling took a lapsed lease) stops its jobs at once, before its
lease can lapse, so two workers never run them together; a holder that stops cleanly
releases the lease so the next worker takes over within one ``renew_s``, not ``ttl``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from hq.server.lease import HOUSEKEEPING, LeaseStore, holder_gone

log = logging.getLogger(__name__)

DEFAULT_TTL = dt.timedelta(seconds=30)


class Job(Protocol):
    """A background job: started when the lease is won, stopped when it is lost."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


JobFactory = Callable[[], Job]


def worker_identity() -> str:
    """This worker's name in the lease: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (a zombie counts until reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class Housekeeper:
    """Holds (or waits for) the housekeeping lease and runs ``jobs`` while it holds it."""

    def __init__(self, leases: LeaseStore, jobs: Sequence[JobFactory], *,
                 ttl: dt.timedelta = DEFAULT_TTL, me: str | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 alive: Callable[[int], bool] = pid_alive,
                 stopping: Callable[[], bool] = lambda: False) -> None:
        self.leases, self.ttl, self.clock, self.alive = leases, ttl, clock, alive
        self.stopping = stopping  # the worker is shutting down: take nothing new on
        self.me = me or worker_identity()
        self.host = socket.gethostname()
        self.renew_s = ttl.total_seconds() / 3  # two renewals may fail before it lapses
        self._factories = list(jobs)
        self._running: list[Job] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self._held = False

    @property
    def holding(self) -> bool:
        """Whether this worker holds the lease (and so runs the jobs) now."""
        return self._held

    def tick(self, now: dt.datetime) -> bool:
        """One round at ``now``: take or renew the lease, start or stop the jobs."""
        if self.stopping():  # a worker on its way out hands the jobs to the others
            if self._held:
                self._stop_jobs()
                self._release()
            return False
        try:
            won = self.leases.acquire(HOUSEKEEPING, self.me, self.ttl, now)
            if not won:
                # A holder on this machine that is gone (kill -9, a crash, HQ restarted)
                # is not waited out for ``ttl``.
                holder = self.leases.get(HOUSEKEEPING).holder
                if holder_gone(holder, self.host, self.alive):
                    won = self.leases.take_over(HOUSEKEEPING, self.me, holder, self.ttl, now)
                    if won:
                        log.info("housekeeping lease taken over from %s, which is gone",
                                 holder)
        except sqlite3.Error as exc:  # PostgreSQL restarting: not ours until renewed
            if not self._failing:
                log.error("housekeeping lease cannot be renewed: %s", exc)
            self._failing = True
            won = False
        else:
            if self._failing:
                log.info("housekeeping lease reachable again")
            self._failing = False
        if won and not self._held:
            log.info("worker %s holds the housekeeping lease: upload expiry, retention and "
                     "alert delivery run here", self.me)
            self._running = [make() for make in self._factories]
            for job in self._running:
                job.start()
        elif not won and self._held:
            log.warning("worker %s lost the housekeeping lease; its jobs stop here", self.me)
            self._stop_jobs()
        self._held = won
        return won

    def start(self) -> None:
        """Ask once now, then every ``renew_s`` on a daemon thread."""
        self.tick(self.clock())
        self._thread = threading.Thread(target=self._run, name="hq-housekeeping",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the jobs and hand the lease back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self._stop_jobs()
        if self._held:
            self._release()

    def _release(self) -> None:
        try:
            self.leases.release(HOUSEKEEPING, self.me)
        except sqlite3.Error as exc:  # it lapses on its own after ttl
            log.warning("housekeeping lease not released: %s", exc)
        self._held = False

    def _stop_jobs(self) -> None:
        for job in reversed(self._running):
            try:
                job.stop()
            except Exception:  # one job failing to stop must not keep the others going
                log.exception("housekeeping job did not stop cleanly")
        self._running = []

    def _run(self) -> None:
        while not self._stop.wait(self.renew_s):
            self.tick(self.clock())
