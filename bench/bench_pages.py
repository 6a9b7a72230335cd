"""Page server time of HQ's dashboard (/) and transaction search (/transactions).

Seeds a fleet through HQ's ingest (``hq.reports.demo.seed``, the same code as
``counterunit hq seed-demo``: 200 windows, one year by default), serves it with the
embedded HQ (real uvicorn, TLS), logs an admin in through the login form, and times
each page request inside the server: an ASGI wrapper measures from the request's
arrival to the last byte of the response, so the client and the network are left out.
Pages timed: ``/`` (every window's tile), ``/transactions`` (the newest page), a
filtered search (one branch, rating 1, has an alert), and a transaction page.
Prints, last, one line::

    pages: / p95 X ms, /transactions p95 Y ms (W windows, D days)

    python -m bench.bench_pages [--branches 4 --halls 5 --windows 10] [--days 365]
        [--txn-per-day 5] [--rounds 30] [--data DIR (reuse a seeded folder)]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from hq.accounts.users import UserExists
from hq.reports.demo.seed import SeedSpec, seed
from hq.server.embedded import running_hq
from hq.storage.sqlite import connect

ADMIN, PASSWORD = "bench-admin", "a long enough bench password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

Scope = dict[str, Any]
ASGI = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                Awaitable[None]]


class ServerTimer:
    """ASGI wrapper: milliseconds per path from arrival to the response's last byte."""

    def __init__(self, app: ASGI) -> None:
        self.app = app
        self.ms: dict[str, list[float]] = defaultdict(list)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                key = scope["path"] + "?" + scope.get("query_string", b"").decode()
                self.ms[key].append((time.perf_counter() - t0) * 1000)

        await self.app(scope, receive, timed_send)


def _p(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--branches", type=int, default=4)
    p.add_argument("--halls", type=int, default=5)
    p.add_argument("--windows", type=int, default=10)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--txn-per-day", type=float, default=5.0)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--data", type=Path, help="a folder seeded before (skips seeding)")
    args = p.parse_args(argv)
    tmp = None
    root = args.data
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-pages-")
        root = Path(tmp.name)
    data = root / "data"
    if not (data / "events.db").exists():
        t0 = time.perf_counter()
        data.mkdir(parents=True, exist_ok=True)
        counts = seed(data, SeedSpec(branches=args.branches, halls=args.halls,
                                     windows=args.windows, days=args.days,
                                     txn_per_day=args.txn_per_day))
        took = time.perf_counter() - t0
        print(f"seeded {counts['events']} events, {counts['shifts']} shifts in {took:.0f} s "
              f"({counts['events'] / took:.0f} events/s through ingest)", flush=True)
    conn = connect(data / "events.db")
    windows = int(conn.execute("SELECT COUNT(*) FROM org_windows").fetchone()[0])
    first, last, txns = conn.execute(
        "SELECT MIN(started_utc), MAX(started_utc), COUNT(*) FROM transactions").fetchone()
    days = (dt.date.fromisoformat(last[:10]) - dt.date.fromisoformat(first[:10])).days + 1
    branch = conn.execute("SELECT branch_id FROM org_branches ORDER BY branch_id"
                          ).fetchone()[0]
    one = conn.execute("SELECT unit_id, txn_id FROM transactions ORDER BY started_utc DESC "
                       "LIMIT 1").fetchone()
    conn.close()
    timer: ServerTimer | None = None

    def wrap(app: Any) -> Any:
        nonlocal timer
        timer = ServerTimer(app)
        return timer

    with running_hq(root, wrap=wrap) as hq:
        users = hq.deps.user_store()
        with contextlib.suppress(UserExists):  # from an earlier run on the same folder
            users.create_user(ADMIN, PASSWORD, "admin")
        s = requests.Session()
        s.verify = str(hq.ca_pem)
        s.trust_env = False
        s.headers["Accept"] = "text/html"
        form = s.get(f"{hq.url}/login", timeout=30).text
        csrf = _CSRF.search(form)
        assert csrf, "no login form"
        r = s.post(f"{hq.url}/login", data={"username": ADMIN, "password": PASSWORD,
                                            "csrf_token": csrf.group(1), "next": "/"},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 303, r.text[:300]
        pages = {
            "/": ("/", {}),
            "/transactions": ("/transactions", {}),
            "/transactions (filtered)": ("/transactions", {"branch": branch, "rating": "1",
                                                           "alert": "yes"}),
            "/transactions/{unit}/{txn}": (f"/transactions/{one[0]}/{one[1]}", {}),
        }
        assert timer is not None
        results: dict[str, list[float]] = {}
        for name, (path, params) in pages.items():
            s.get(hq.url + path, params=params, timeout=60)  # warm caches once
            timer.ms.clear()
            for _ in range(args.rounds):
                got = s.get(hq.url + path, params=params, timeout=60)
                assert got.status_code == 200, (name, got.status_code, got.text[:300])
            key = path + "?" + urlencode(params)
            deadline = time.monotonic() + 5  # the last body may be timed after it arrived
            while len(timer.ms[key]) < args.rounds and time.monotonic() < deadline:
                time.sleep(0.01)
            results[name] = list(timer.ms[key])
        s.close()
    for name, ms in results.items():
        print(f"{name:30s} p50 {statistics.median(ms):7.1f} ms  p95 {_p(ms, 0.95):7.1f} ms  "
              f"(n={len(ms)})")
    print(f"({txns} transactions)")
    print(f"pages: / p95 {_p(results['/'], 0.95):.0f} ms, /transactions p95 "
          f"{_p(results['/transactions'], 0.95):.0f} ms ({windows} windows, {days} days)",
          flush=True)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
