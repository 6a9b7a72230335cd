"""Outbox, first stage: turn "level L of thread T" into deliveries, and escalate.

Both run in one transaction each, so a crash leaves either the dispatch row untouched
(expanded again after the restart, to the same idempotency keys) or every delivery made.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from hq.alerts import policy_store
from hq.alerts.delivery import links
from hq.alerts.delivery.message import compose
from hq.alerts.delivery.plan import DASHBOARD, GROUP, plan
from hq.alerts.ingest import save, state_of
from hq.alerts.policy import PolicyDoc, quiet_until, resolve
from hq.alerts.queries import ThreadView, thread
from hq.alerts.recipients import RecipientDirectory, people, staff_person
from hq.alerts.threads import escalate, escalation_due
from hq.storage.models import utc_text
from hq.storage.scope import Scope

ALL = Scope.everything()


def _ack_url(doc: PolicyDoc, key: bytes, thread_id: int, recipient: str,
             now: dt.datetime) -> str:
    token = links.sign(key, thread_id, recipient, now)
    return f"{doc.hq_url}/v1/alerts/{thread_id}/ack-link?token={token}"


def expand_one(conn: sqlite3.Connection, thread_id: int, level: int,
               directory: RecipientDirectory, key: bytes, now: dt.datetime) -> int:
    """Make the deliveries of one dispatch row (in the caller's transaction); how many new."""
    stored = policy_store.current(conn)
    doc = stored.doc
    view = thread(conn, ALL, thread_id)
    resolved = resolve(doc, view.kind, level, view.branch_id, view.hall_id)
    staff = staff_person(conn, view.staff_no) if resolved and view.staff_no else None
    who = people(directory, resolved.level.recipients, view.branch_id, view.hall_id,
                 staff) if resolved else []
    quiet_end = None
    if resolved is not None and resolved.level.during_quiet == "defer":
        quiet_end = quiet_until(now, view.branch_tz or "UTC", resolved.quiet_hours)
    made = 0
    for p in plan(thread_id, level, doc, resolved, who):
        recipient = p.recipient if p.recipient not in (GROUP, DASHBOARD) else ""
        ack = _ack_url(doc, key, thread_id, recipient or p.channel, now) \
            if p.channel != DASHBOARD else None
        title, body = compose(view, level, resolved.level.plan if resolved else "",
                              doc.hq_url, ack, p.language)
        if p.channel == DASHBOARD:
            status, next_utc, done = "delivered", now, utc_text(now)
        elif p.skipped:
            status, next_utc, done = "skipped", now, utc_text(now)
        elif quiet_end is not None:
            status, next_utc, done = "deferred", quiet_end, None
        else:
            status, next_utc, done = "pending", now, None
        cur = conn.execute(
            "INSERT OR IGNORE INTO alert_deliveries (idem_key, thread_id, level, channel, "
            "recipient, url, title, body, status, next_utc, created_utc, done_utc, last_error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [p.idem_key, thread_id, level, p.channel, p.recipient, p.url, title, body,
             status, utc_text(next_utc), utc_text(now), done, p.skipped])
        made += cur.rowcount
    conn.execute("UPDATE alert_dispatch SET expanded_utc = ?, policy_version = ? "
                 "WHERE thread_id = ? AND level = ?",
                 [utc_text(now), stored.version, thread_id, level])
    return made


def escalate_due(conn: sqlite3.Connection, now: dt.datetime) -> list[int]:
    """Raise every open, unacknowledged thread that waited past its level's limit."""
    doc = policy_store.current(conn).doc
    raised = []
    rows = conn.execute("SELECT * FROM alert_threads WHERE status = 'open' "
                        "AND acked_utc IS NULL AND level < 3").fetchall()
    for row in rows:
        view: ThreadView = thread(conn, ALL, row["thread_id"])
        resolved = resolve(doc, view.kind, view.level, view.branch_id, view.hall_id)
        after = resolved.level.escalate_after_min if resolved else None
        state = state_of(row)
        if not escalation_due(state, dt.timedelta(minutes=after) if after else None, now):
            continue
        out = escalate(state, now)
        assert out.state is not None
        save(conn, row["thread_id"], out.state)
        for level in out.levels:
            conn.execute("INSERT OR IGNORE INTO alert_levels (thread_id, level, utc, source) "
                         "VALUES (?, ?, ?, 'escalation')", [row["thread_id"], level,
                                                            utc_text(now)])
            conn.execute("INSERT OR IGNORE INTO alert_dispatch (thread_id, level, created_utc)"
                         " VALUES (?, ?, ?)", [row["thread_id"], level, utc_text(now)])
        conn.execute("INSERT INTO alert_notes (thread_id, utc, username, kind, text) VALUES "
                     "(?, ?, 'hq', 'escalated', ?)",
                     [row["thread_id"], utc_text(now),
                      f"not acknowledged within {after} min at level {state.level}"])
        raised.append(row["thread_id"])
    return raised
