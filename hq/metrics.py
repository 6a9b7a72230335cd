"""Prometheus metrics of HQ at ``GET /metrics`` (prometheus-client).

Two kinds, chosen so several worker processes report one truth:

- **Counters and the latency histogram** live in process memory, written where the work
  happens (ingest, tus PATCH, every request). With ``counterunit hq serve --workers N``
  set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder writable by HQ (cleared at each
  start): prometheus-client then keeps them in shared files and ``/metrics`` sums every
  worker's (``MultiProcessCollector``). Without it (one process) they are plain.
- **Gauges derived from the database** at scrape time (outbox depth, deliveries by
  outcome, silent units): the same whichever worker answers, nothing to share.

Access: a client on the loopback interface, or a bearer token of an ``admin`` account.
Behind a reverse proxy on the same host every request looks local, so the proxy must
not forward ``/metrics`` (docs/hq-deploy.md has the nginx lines).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hq.org.units.overview import unit_overview
from hq.storage.scope import Scope as DataScope

# Metrics of this process, registered on a registry of our own (not the global default,
# so tests and several apps in one process stay apart from the library's process metrics).
PROCESS = CollectorRegistry(auto_describe=True)

EVENTS = Counter("counterunit_hq_events_total", "Unit events received by outcome.",
                 ["outcome"], registry=PROCESS)
UPLOAD_BYTES = Counter("counterunit_hq_upload_bytes_total",
                       "Clip bytes received in tus PATCH requests.", registry=PROCESS)
LATENCY = Histogram("counterunit_hq_request_seconds",
                    "HTTP request latency by method and route template.",
                    ["method", "route", "status"], registry=PROCESS,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0))


def count_ingest(accepted: int, duplicates: int, rejected: int) -> None:
    """One events batch's outcome (hq/api/units/events.py)."""
    for outcome, n in (("accepted", accepted), ("duplicate", duplicates),
                       ("rejected", rejected)):
        if n:
            EVENTS.labels(outcome).inc(n)


def count_upload(nbytes: int) -> None:
    """Bytes of one stored tus chunk (hq/api/units/uploads.py)."""
    UPLOAD_BYTES.inc(nbytes)


class LatencyMiddleware:
    """Observes every HTTP request by its route *template* (``/v1/clips/{unit}/{clip}``),
    never the raw path, so ids never become label values; unmatched paths are ``other``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), [500]

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            LATENCY.labels(scope["method"], route, str(status[0])).observe(
                time.perf_counter() - start)


class DatabaseGauges(Collector):
    """Gauges computed from HQ's events database at each scrape."""

    def __init__(self, conn: Callable[[], sqlite3.Connection],
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.conn, self.clock = conn, clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        conn = self.conn()
        outbox: list[GaugeMetricFamily] = []
        with contextlib.suppress(sqlite3.OperationalError):  # alerts never opened here
            outbox = list(self._outbox(conn))
        yield from outbox
        units = unit_overview(conn, DataScope.everything(), self.clock())
        silent = GaugeMetricFamily("counterunit_hq_units_silent",
                                   "Units not heard from for longer than the threshold.")
        silent.add_metric([], float(sum(u.silent for u in units)))
        yield silent
        known = GaugeMetricFamily("counterunit_hq_units", "Units known to HQ.")
        known.add_metric([], float(len(units)))
        yield known

    def _outbox(self, conn: sqlite3.Connection) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("counterunit_hq_outbox_depth",
                                  "Alert outbox rows not yet done, by stage.",
                                  labels=["stage"])
        todo = conn.execute("SELECT COUNT(*) FROM alert_dispatch WHERE expanded_utc IS NULL"
                            ).fetchone()[0]
        waiting = conn.execute("SELECT COUNT(*) FROM alert_deliveries WHERE status IN "
                               "('pending', 'deferred')").fetchone()[0]
        depth.add_metric(["dispatch"], float(todo))
        depth.add_metric(["delivery"], float(waiting))
        yield depth
        deliveries = GaugeMetricFamily("counterunit_hq_alert_deliveries",
                                       "Alert deliveries by channel and outcome (all time).",
                                       labels=["channel", "status"])
        for channel, status, n in conn.execute(
                "SELECT channel, status, COUNT(*) FROM alert_deliveries "
                "GROUP BY channel, status ORDER BY channel, status"):
            deliveries.add_metric([channel, status], float(n))
        yield deliveries


def _registry(gauges: DatabaseGauges) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(reg)  # every worker's counters, summed
    else:
        reg.register(_Forward(PROCESS))
    reg.register(gauges)
    return reg


class _Forward(Collector):
    """This process's own metrics inside another registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()


def may_scrape(client_host: str | None, authorization: str,
               is_admin: Callable[[str], bool]) -> bool:
    """Whether a scrape is allowed: from a loopback address, or with the bearer token of
    an admin account (``Authorization: Bearer ...``)."""
    try:
        if client_host and ipaddress.ip_address(client_host).is_loopback:
            return True
    except ValueError:
        pass
    token = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    return bool(token) and is_admin(token)


def build_metrics_router(gauges: DatabaseGauges,
                         is_admin: Callable[[str], bool]) -> APIRouter:
    """``GET /metrics``: loopback clients, or ``Authorization: Bearer`` of an admin."""
    router = APIRouter(include_in_schema=False)
    registry = _registry(gauges)

    @router.get("/metrics")
    def metrics(request: Request) -> Response:
        host = request.client.host if request.client else None
        if not may_scrape(host, request.headers.get("authorization", ""), is_admin):
            return Response("metrics are for loopback clients or an admin token\n",
                            status_code=403, media_type="text/plain")
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def metrics_router(deps: Any) -> APIRouter:
    """The router over one HQ's deps (events.db read through the page connections)."""
    from hq.web.live.db import conn_for

    return build_metrics_router(DatabaseGauges(lambda: conn_for(deps)), admin_check(deps))


def admin_check(deps: Any) -> Callable[[str], bool]:
    """Whether a bearer token is a live token of an enabled admin account."""
    def admin(token: str) -> bool:
        user = deps.user_store().user_for_token(token)
        return user is not None and user.enabled and user.role == "admin"

    return admin
