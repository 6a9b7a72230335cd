"""One HQ worker process: the app under uvicorn with mutual TLS, housekeeping under a lease.

``counterunit hq serve`` runs one of these in its own process (``--workers 1``), or a
supervisor (:mod:`hq.server.workers`) runs N of them on one listening socket it bound
itself. Every worker serves every request: what a request needs lives in the database
(docs/hq-database.md, "What lives where"). Jobs that must run once per HQ (upload expiry,
the retention run, alert delivery) run only in the worker holding the housekeeping lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import socket
from collections.abc import Callable
from pathlib import Path

from hq.api.app import (
    apply_settings,
    create_app,
    guarded_server,
    retention_schedule,
    server_config,
)
from hq.api.deps import HQDeps
from hq.pki.ca import CERT_FILE
from hq.server.guard import GuardStats
from hq.server.housekeeping import Housekeeper, Job
from hq.server.lease import LeaseStore
from hq.server.settings import HQServerSettings
from hq.storage.sqlite import connect

log = logging.getLogger(__name__)

GRACEFUL_S = 10  # below the supervisor's STOP_GRACE_S, so a worker stops before SIGKILL


class _AlertDelivery:
    """The alert outbox as a housekeeping job (one sender per HQ: no double sends)."""

    def __init__(self, deps: HQDeps) -> None:
        self.service = deps.alert_service()

    def start(self) -> None:
        self.service.start()

    def stop(self) -> None:
        if self.service.outbox is not None:
            self.service.outbox.close()
            self.service.outbox = None


def housekeeper(deps: HQDeps, settings: HQServerSettings,
                stopping: Callable[[], bool] = lambda: False) -> Housekeeper:
    """This worker's housekeeper over the data folder's database, not started."""
    leases = LeaseStore(connect(deps.config_dir.parent / "events.db"))

    def expiry() -> Job:
        return apply_settings(deps, settings)

    def retention() -> Job:
        return retention_schedule(deps)

    def alerts() -> Job:
        return _AlertDelivery(deps)

    ttl = dt.timedelta(seconds=settings.housekeeping_lease_s)
    return Housekeeper(leases, [expiry, retention, alerts], ttl=ttl, stopping=stopping)


def serve(root: Path, host: str, port: int, server_cert: Path, server_key: Path,
          settings: HQServerSettings | None = None, *,
          sock: socket.socket | None = None) -> None:
    """Run one HQ worker on ``host:port`` (or the listening ``sock`` a supervisor
    passed down) with the data folder ``root`` until SIGTERM or SIGINT."""
    settings = settings or HQServerSettings.model_validate({})
    deps = HQDeps.open(root)
    app = create_app(deps)
    stats = GuardStats()
    config = server_config(app, host, port, server_cert, server_key,
                           deps.ca.directory / CERT_FILE, settings=settings, stats=stats)
    # The stores take the housekeeping values even where the lease runs elsewhere (the
    # upload quota expires a unit's own abandoned uploads at once, in any worker).
    apply_settings(deps, settings)
    where = (f"socket {sock.getsockname()}" if sock is not None
             else f"https://{host}:{port}")
    log.info("HQ serving %s on %s (at most %d connections; head %.0f s, body "
             "%.0f s, TLS handshake %.0f s)", root, where, settings.connection_limit(),
             settings.header_timeout_s, settings.body_timeout_s,
             settings.tls_handshake_timeout_s)
    # Requests in flight get this long after SIGTERM; an idle kept-alive connection of a
    # client must not hold the worker (and its supervisor) up.
    config.timeout_graceful_shutdown = GRACEFUL_S
    server = guarded_server(config, settings, stats)
    keeper = housekeeper(deps, settings, stopping=lambda: server.should_exit)
    keeper.start()
    # HQ's own conditions (disk full) become alert threads (hq/alerts/service.py), in
    # every worker: raising one is a database write, not a delivery.
    deps.conditions.hooks.append(deps.alert_service().condition_hook)
    # uvicorn re-raises the SIGTERM it caught once it has shut down; with the default
    # action that would end the process before the lines below give the lease back and
    # close the stores. A handler that does nothing lets serve() return instead.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run(sockets=[sock] if sock else None)
    finally:
        keeper.stop()
        keeper.leases.close()
        deps.alert_service().close()
        for store in (deps.events, deps.clips, deps.audit):
            store.close()
        log.info("HQ stopped")
