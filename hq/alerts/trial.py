"""``counterunit hq notify-test``: one test alert through a channel, the outbox's own way.

The message is composed as a real alert's and sent by the same function the outbox uses
(idempotency key attached where the channel takes one); nothing is stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from pathlib import Path

from hq.alerts import policy_store
from hq.alerts.delivery.channels import redact, send
from hq.alerts.delivery.message import compose
from hq.alerts.queries import ThreadView
from hq.storage.models import utc_text
from hq.storage.sqlite import connect


def sample_thread(now: dt.datetime) -> ThreadView:
    """A made-up level-1 off-seat thread, clearly labelled as a test."""
    t = utc_text(now)
    return ThreadView(
        thread_id=0, kind="test", title="TEST alert (counterunit hq notify-test)",
        unit_id="test-unit", episode="test", status="open", level=1, opened_utc=t,
        level_utc=t, closed_utc=None, acked_utc=None, acked_by=None, branch_id=None,
        branch_name="Test branch", hall_id=None, hall_name="Test hall", window_id=None,
        window_name="Test window", staff_no="0000", staff_name="Test staff",
        detail="This is a test; nothing happened.", clip_id=None, snapshot_id=None,
        dashboard_link=None, clip_link=None, snapshot_link=None)


def run(data: Path, url: str) -> int:
    """Send, print the outcome; 0 delivered, 1 failed."""
    hq_url = "https://localhost:8443"
    db = data / "events.db"
    if db.exists():
        conn = connect(db)
        try:
            hq_url = policy_store.current(conn).doc.hq_url
        finally:
            conn.close()
    now = dt.datetime.now(dt.UTC)
    title, body = compose(sample_thread(now), 1, "Test plan: no action needed.", hq_url, None)
    key = f"test-{uuid.uuid4().hex[:16]}"
    res = send(url, title, body, key=key)
    outcome = "delivered" if res.ok else "FAILED"
    print(f"{outcome}: {redact(url)} in {res.ms:.0f} ms (delivery key {key}): {res.detail}")
    return 0 if res.ok else 1


def add_command(sub: argparse._SubParsersAction) -> None:
    """Add ``notify-test`` to ``counterunit hq``."""
    p = sub.add_parser("notify-test", help="send a test alert through one apprise URL")
    p.add_argument("--data", type=Path, required=True, help="HQ data folder")
    p.add_argument("--url", required=True, help="apprise URL, e.g. mailto://... or json://...")
    p.set_defaults(func=lambda a: run(a.data, a.url))
