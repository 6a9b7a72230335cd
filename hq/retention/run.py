"""One retention run: delete what is past its period and not held, audit every deletion.

Order: clips first (a clip never outlives its transaction), then transactions (with
their ratings), then events. Each deletion happens in a write transaction of the events
database that first re-reads the open holds, so a hold set a moment before wins; the
audit record is written inside that transaction, before its commit, so a deletion the
audit log could not record is rolled back (fail closed, like playback). A clip's bytes
go after the commit that claimed it; if that fails the claim is withdrawn and the next
run tries again.

Audit records (actor ``retention``, role ``system``, action ``retention_delete``): one
per clip (``clip``, ``unit/clip``), one per transaction (``transaction``, ``unit/txn``),
and one per unit and day of events in each batch (``events``, ``unit/YYYY-MM-DD``,
detail ``count=N``), since per-event records would outnumber the events.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from hq.storage.base import AuditLog
from hq.storage.models import utc_text

from . import gather
from .holds import held_sets
from .periods import load
from .policy import CLIP, EVENT, Item, Periods, days_for, due, earliest_cutoff, is_held
from .store import RetentionStore

log = logging.getLogger(__name__)

ACTION = "retention_delete"
ACTOR, ROLE, CLIENT = "retention", "system", "hq"


class ClipDeleter(Protocol):
    """The part of a ClipStore retention uses."""

    def delete(self, unit_id: str, clip_id: str) -> bool: ...


@dataclass
class RunReport:
    """What a run deleted (or, dry, would delete) and what holds kept."""

    dry_run: bool
    clips: list[tuple[str, str]] = field(default_factory=list)
    transactions: list[tuple[str, str]] = field(default_factory=list)
    events: int = 0
    held: int = 0  # items past their period kept by a legal hold
    failed: int = 0  # clips whose bytes could not be removed (retried next run)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (f"retention {verb}: {len(self.clips)} clips, {len(self.transactions)} "
                f"transactions, {self.events} events; {self.held} kept by legal holds"
                + (f"; {self.failed} clip deletions failed" if self.failed else ""))


def _detail(item: Item, periods: Periods) -> str:
    days = days_for(item, periods)
    field_name = "clip_days" if item.kind == CLIP else "event_days"
    return (f"branch={item.branch_id or '-'}; {field_name}={days}; "
            f"recorded={utc_text(item.utc)}")


def _audit(audit: AuditLog, object_type: str, object_id: str, detail: str,
           now: dt.datetime) -> None:
    audit.append(actor=ACTOR, role=ROLE, action=ACTION, object_type=object_type,
                 object_id=object_id, client=CLIENT, detail=detail, utc=now)


class RetentionRun:
    """Runs over one HQ's events database, clip store and audit log."""

    def __init__(self, store: RetentionStore, clips: ClipDeleter, audit: AuditLog, *,
                 batch: int = 1000) -> None:
        self.store, self.clips, self.audit, self.batch = store, clips, audit, batch

    def __call__(self, now: dt.datetime, *, dry_run: bool = False) -> RunReport:
        """One run at ``now``."""
        report = RunReport(dry_run)
        with self.store.reading() as conn:
            periods = load(conn)
            txns, held_clips = held_sets(conn)
        self._clips(periods, txns, held_clips, now, report)
        self._transactions(periods, txns, held_clips, now, report)
        self._events(periods, txns, held_clips, now, report)
        if report.clips or report.transactions or report.events or report.failed:
            log.info("%s", report.summary())
        return report

    def _old(self, items: list[Item], periods: Periods, txns: frozenset[tuple[str, str]],
             clips: frozenset[tuple[str, str]], now: dt.datetime,
             report: RunReport) -> list[Item]:
        gone = due(items, periods, txns, clips, now)
        report.held += len(due(items, periods, frozenset(), frozenset(), now)) - len(gone)
        return gone

    def _clips(self, periods: Periods, txns: frozenset[tuple[str, str]],
               held_clips: frozenset[tuple[str, str]], now: dt.datetime,
               report: RunReport) -> None:
        before = earliest_cutoff(periods, CLIP, now)
        if before is None:
            return
        with self.store.reading() as conn:
            items = gather.clips(conn, before)
        for item in self._old(items, periods, txns, held_clips, now, report):
            if report.dry_run:
                report.clips.append((item.unit_id, item.key))
                continue
            with self.store.writing() as conn:
                if is_held(item, *held_sets(conn)):
                    report.held += 1
                    continue
                conn.execute("INSERT INTO retention_clips_deleted (unit_id, clip_id, "
                             "deleted_utc) VALUES (?, ?, ?)",
                             [item.unit_id, item.key, utc_text(now)])
                _audit(self.audit, "clip", f"{item.unit_id}/{item.key}",
                       _detail(item, periods), now)
            try:
                self.clips.delete(item.unit_id, item.key)
            except Exception as exc:  # the bytes stay; withdraw the claim, retry next run
                log.error("retention: clip %s of %s not deleted: %s", item.key,
                          item.unit_id, exc)
                report.failed += 1
                with self.store.writing() as conn:
                    conn.execute("DELETE FROM retention_clips_deleted WHERE unit_id = ? "
                                 "AND clip_id = ?", [item.unit_id, item.key])
                continue
            report.clips.append((item.unit_id, item.key))

    def _transactions(self, periods: Periods, txns: frozenset[tuple[str, str]],
                      held_clips: frozenset[tuple[str, str]], now: dt.datetime,
                      report: RunReport) -> None:
        before = earliest_cutoff(periods, EVENT, now)
        if before is None:
            return
        with self.store.reading() as conn:
            items = gather.transactions(conn, before)
        for item in self._old(items, periods, txns, held_clips, now, report):
            if report.dry_run:
                report.transactions.append((item.unit_id, item.key))
                continue
            with self.store.writing() as conn:
                if is_held(item, *held_sets(conn)):
                    report.held += 1
                    continue
                args = [item.unit_id, item.key]
                conn.execute("DELETE FROM ratings WHERE unit_id = ? AND txn_id = ?", args)
                conn.execute("DELETE FROM transactions WHERE unit_id = ? AND txn_id = ?", args)
                _audit(self.audit, "transaction", f"{item.unit_id}/{item.key}",
                       _detail(item, periods), now)
            report.transactions.append((item.unit_id, item.key))

    def _events(self, periods: Periods, txns: frozenset[tuple[str, str]],
                held_clips: frozenset[tuple[str, str]], now: dt.datetime,
                report: RunReport) -> None:
        before = earliest_cutoff(periods, EVENT, now)
        if before is None:
            return
        cursor = gather.START
        while True:
            with self.store.reading() as conn:
                page, cursor = gather.events(conn, before, cursor, self.batch)
            if not page:
                return
            gone = self._old(page, periods, txns, held_clips, now, report)
            if report.dry_run or not gone:
                report.events += len(gone) if report.dry_run else 0
                continue
            with self.store.writing() as conn:
                fresh = held_sets(conn)
                gone = [i for i in gone if not is_held(i, *fresh)]
                days: dict[tuple[str, str], list[Item]] = defaultdict(list)
                for item in gone:
                    conn.execute("DELETE FROM events WHERE uuid = ?", [item.key])
                    days[(item.unit_id, item.utc.date().isoformat())].append(item)
                for (unit, day), items in sorted(days.items()):
                    branches = ",".join(sorted({i.branch_id or "-" for i in items}))
                    _audit(self.audit, "events", f"{unit}/{day}",
                           f"count={len(items)}; branch={branches}; "
                           f"event_days={days_for(items[0], periods)}", now)
            report.events += len(gone)
