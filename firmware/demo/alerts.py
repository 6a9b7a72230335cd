"""The demo's alerts: HQ sends level-1 off-seat alerts to a JSON webhook the demo runs.

``webhook(hq)`` starts a receiver on loopback and gives HQ a policy naming it; after the
day, ``report()`` waits for the outbox to settle and prints
``alert deliveries: N delivered, M failed`` (False if any failed or none came).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hq.alerts import policy_store
from hq.alerts.policy import PolicyDoc
from hq.server.embedded import EmbeddedHQ

SETTLE_S = 15.0


@dataclass
class DemoAlerts:
    hq: EmbeddedHQ
    received: list[dict[str, Any]] = field(default_factory=list)

    def report(self) -> bool:
        """Print the delivery line once nothing is pending any more."""
        deadline = time.monotonic() + SETTLE_S
        while True:
            with self.hq.deps.alert_service().db() as conn:
                counts = dict(conn.execute(
                    "SELECT status, COUNT(*) FROM alert_deliveries WHERE channel != "
                    "'dashboard' GROUP BY status").fetchall())
                threads = conn.execute("SELECT COUNT(*) FROM alert_dispatch WHERE "
                                       "expanded_utc IS NULL").fetchone()[0]
            if (not counts.get("pending") and not threads) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        delivered, failed = counts.get("delivered", 0), counts.get("failed", 0)
        print(f"\nalert deliveries: {delivered} delivered, {failed} failed"
              f" (webhook received {len(self.received)}"
              + (f"; first: {self.received[0].get('title', '')!r}" if self.received else "")
              + ")")
        return delivered > 0 and failed == 0 and not counts.get("pending")


@contextmanager
def webhook(hq: EmbeddedHQ) -> Iterator[DemoAlerts]:
    """A JSON webhook receiver on loopback, and HQ's policy sending level 1 to it."""
    alerts = DemoAlerts(hq)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                doc = json.loads(body)
            except ValueError:
                doc = {}
            with lock:
                alerts.received.append(doc)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="demo-webhook", daemon=True)
    thread.start()
    doc = PolicyDoc.model_validate({
        "hq_url": hq.url, "silent_after_min": 1440,
        "channels": {"webhook": {"url": f"json://127.0.0.1:{server.server_address[1]}/alerts",
                                 "description": "the demo's local webhook"}},
        "default": {"kinds": {"off_seat": {"levels": {"1": {
            "channels": ["webhook"],
            "plan": "Call the staff member; if unreachable, open the spare window."}}}}}})
    with hq.deps.alert_service().db() as conn:
        policy_store.put(conn, doc, "demo", dt.datetime.now(dt.UTC))
    try:
        yield alerts
    finally:
        server.shutdown()
        server.server_close()
