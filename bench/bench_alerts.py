"""Alert latency: a unit's off-seat event to the webhook receiver's receipt.

A real HQ (uvicorn, mutual TLS, its outbox thread) on loopback; the unit posts each
``alert_raised`` through the unit API (sync's HQClient with its enrolled certificate),
HQ's outbox sends it to a JSON webhook receiver on loopback. Latency is the receipt time
minus the event's own time. The goal is p99 <= 2 s at 100 alerts/minute; by default
the bench runs 10x faster (1000/minute, 300 alerts, about 20 s) - a harder load than the
goal - and ``--rate 100`` runs the real pace. Exit 1 on a miss. Not part of ``make test``:

    python -m bench.bench_alerts [--alerts 300] [--rate 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hq.alerts import policy_store
from hq.alerts.policy import PolicyDoc
from sync.hq_client import HQClient
from sync.schema import EventEnvelope
from tests.helpers.hq.alert_receivers import HttpReceiver
from tests.helpers.hq.alerts import seed_org
from tests.helpers.hq.server import running_hq

GOAL_P99_MS = 2000.0


def _event(i: int) -> EventEnvelope:
    return EventEnvelope(
        uuid=uuid.uuid4().hex, type="alert_raised", unit_id="unit-a", counter_id="c1",
        utc=dt.datetime.now(dt.UTC), mono=float(i), boot_id="bench", clock_synced=True,
        data={"alert": "off_seat", "level": 1, "absence_id": f"bench-{i}",
              "staff_id": "S001", "away_s": 60.0})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--alerts", type=int, default=300)
    ap.add_argument("--rate", type=float, default=1000.0, help="alerts per minute")
    args = ap.parse_args(argv)
    hook = HttpReceiver()
    with tempfile.TemporaryDirectory() as tmp, running_hq(Path(tmp)) as hq:
        seed_org(hq.deps.events._conn)
        with hq.deps.alert_service().db() as conn:
            policy_store.put(conn, PolicyDoc.model_validate({
                "silent_after_min": 1440,
                "channels": {"room": {"url": f"json://127.0.0.1:{hook.port}/room"}},
                "default": {"kinds": {"*": {"levels": {"1": {"channels": ["room"]}}}}}}),
                "bench", dt.datetime.now(dt.UTC))
        client = HQClient.from_identity(hq.url, hq.enrolled_unit("unit-a"))
        gap = 60.0 / args.rate
        start = time.monotonic()

        def post_all() -> None:
            for i in range(args.alerts):
                time.sleep(max(0.0, start + i * gap - time.monotonic()))
                client.post_events([_event(i)])

        sender = threading.Thread(target=post_all)
        sender.start()
        hook.wait_for(lambda got: len(got) >= args.alerts,
                      timeout=args.alerts * gap + 60)
        sender.join()
    hook.close()
    lat = []
    for r in hook.received:
        since = re.search(r"Since: (\S+)", r.json()["message"])
        assert since is not None
        t = dt.datetime.strptime(since.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=dt.UTC).timestamp()
        lat.append((r.at - t) * 1000)
    q = statistics.quantiles(lat, n=100, method="inclusive")
    p50, p99 = statistics.median(lat), q[98]
    print(f"rate {args.rate:.0f}/min (goal pace 100/min), max {max(lat):.0f} ms, "
          f"goal p99 <= {GOAL_P99_MS:.0f} ms")
    print(f"alerts: event→receipt p50 {p50:.0f} ms p99 {p99:.0f} ms ({len(lat)} alerts)")
    return 0 if p99 <= GOAL_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
