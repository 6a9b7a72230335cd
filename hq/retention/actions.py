"""Holds and periods changed by a person (page or CLI): the change and its audit record
in one step, the record written before the change commits (no unrecorded change)."""

from __future__ import annotations

import datetime as dt

from hq.storage.base import AuditLog

from . import holds, periods
from .holds import Hold
from .policy import Periods
from .store import RetentionStore

HOLD_SET, HOLD_RELEASE, PERIOD_SET = "legal_hold_set", "legal_hold_release", "retention_period"


def set_hold(store: RetentionStore, audit: AuditLog, unit_id: str, txn_id: str, *,
             reason: str, by: str, role: str, client: str, now: dt.datetime) -> Hold:
    """Hold a transaction (HoldError naming the field or the transaction otherwise)."""
    with store.writing() as conn:
        hold = holds.place(conn, unit_id, txn_id, reason=reason, by=by, now=now)
        audit.append(actor=by, role=role, action=HOLD_SET, object_type="transaction",
                     object_id=f"{unit_id}/{txn_id}", client=client,
                     detail=f"hold={hold.hold_id}; reason={hold.reason}", utc=now)
    return hold


def release_hold(store: RetentionStore, audit: AuditLog, unit_id: str, txn_id: str, *,
                 note: str, by: str, role: str, client: str, now: dt.datetime) -> Hold:
    """Release a transaction's open hold."""
    with store.writing() as conn:
        hold = holds.release(conn, unit_id, txn_id, by=by, note=note, now=now)
        audit.append(actor=by, role=role, action=HOLD_RELEASE, object_type="transaction",
                     object_id=f"{unit_id}/{txn_id}", client=client,
                     detail=f"hold={hold.hold_id}; note={note}", utc=now)
    return hold


def set_period(store: RetentionStore, audit: AuditLog, branch_id: str | None, *,
               clip_days: int | None, event_days: int | None, by: str, role: str,
               client: str, now: dt.datetime) -> Periods:
    """Write the organisation default or a branch override (PeriodError naming the field)."""
    with store.writing() as conn:
        new = periods.set_period(conn, branch_id, clip_days=clip_days,
                                 event_days=event_days, by=by, now=now)
        audit.append(actor=by, role=role, action=PERIOD_SET, object_type="retention",
                     object_id=branch_id or "default", client=client,
                     detail=f"clip_days={clip_days}; event_days={event_days}", utc=now)
    return new


def clear_period(store: RetentionStore, audit: AuditLog, branch_id: str | None, *,
                 by: str, role: str, client: str, now: dt.datetime) -> bool:
    """Remove the default or a branch override; whether there was one."""
    with store.writing() as conn:
        gone = periods.clear_period(conn, branch_id)
        if gone:
            audit.append(actor=by, role=role, action=PERIOD_SET, object_type="retention",
                         object_id=branch_id or "default", client=client,
                         detail="cleared", utc=now)
    return gone
