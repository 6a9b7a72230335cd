"""The HQ application: routers, limits and error handling in one FastAPI app, and its server.

``create_app`` is pure wiring (no I/O); ``hq.server.run.serve`` runs it under uvicorn with
mutual TLS, client certificates optional at the handshake because enrollment comes without
one.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from hq.api.alerts import build_alerts_router
from hq.api.deps import HQDeps
from hq.api.errors import install_error_handlers
from hq.api.middleware import BodySizeGuard, TusResumableHeader
from hq.api.org import build_org_router
from hq.api.units.certs import build_certs_router
from hq.api.units.config import build_config_router
from hq.api.units.events import build_events_router
from hq.api.units.status import build_unit_status_router
from hq.api.units.upload_expiry import UploadExpiry
from hq.api.units.uploads import build_uploads_router
from hq.api.users.routes import build_users_router
from hq.metrics import LatencyMiddleware, metrics_router
from hq.retention.run import RetentionRun
from hq.retention.schedule import RetentionSchedule
from hq.server.guard import GuardedServer, GuardStats, guarded_protocol
from hq.server.proxy_cert import TrustedProxy
from hq.server.settings import HQServerSettings
from hq.server.tls import ASGIApp
from hq.web import mount_web
from hq.web.docs import mount_docs

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
OPENAPI_URL = "/v1/openapi.json"


def create_app(deps: HQDeps) -> FastAPI:
    """HQ's API under /v1, OpenAPI document at /v1/openapi.json, docs at /v1/docs."""
    app = FastAPI(title="counterunit HQ", version=API_VERSION, openapi_url=OPENAPI_URL,
                  docs_url=None, redoc_url=None)
    install_error_handlers(app)
    mount_docs(app, OPENAPI_URL, app.title)
    app.include_router(build_certs_router(deps))  # the unit's calls, as in the docs
    app.include_router(build_events_router(deps))
    app.include_router(build_config_router(deps))
    app.include_router(build_uploads_router(deps))
    app.include_router(build_unit_status_router(deps))
    app.include_router(build_org_router(deps))
    app.include_router(build_users_router(deps, deps.user_store()))
    app.include_router(build_alerts_router(deps))
    app.include_router(metrics_router(deps))  # GET /metrics (hq/metrics.py)
    mount_web(app, deps, deps.user_store())  # pages at /, after the API
    # Added last means outermost: the tus header also lands on the guard's 413.
    app.add_middleware(BodySizeGuard, limits=deps.limits)
    app.add_middleware(TusResumableHeader)
    app.add_middleware(LatencyMiddleware)
    if deps.proxy is not None:  # outermost: every layer sees the forwarded certificate
        app.add_middleware(TrustedProxy, config=deps.proxy)
    return app


def server_config(app: ASGIApp, host: str, port: int, server_cert: Path, server_key: Path,
                  ca_pem: Path, *, log_level: str = "info",
                  settings: HQServerSettings | None = None,
                  stats: GuardStats | None = None) -> uvicorn.Config:
    """uvicorn settings for HQ: TLS, client certificates of ``ca_pem`` optional, TLS
    extension, and the timeouts and limits of ``settings`` (hq/server/guard.py)."""
    settings = settings or HQServerSettings.model_validate({})
    return uvicorn.Config(
        app, host=host, port=port, http=guarded_protocol(settings, stats),
        ssl_certfile=str(server_cert), ssl_keyfile=str(server_key), ssl_ca_certs=str(ca_pem),
        ssl_cert_reqs=ssl.CERT_OPTIONAL, log_level=log_level, lifespan="off",
        backlog=settings.backlog, timeout_keep_alive=settings.keepalive_timeout_s)


def guarded_server(config: uvicorn.Config, settings: HQServerSettings | None,
                   stats: GuardStats) -> GuardedServer:
    """The uvicorn server for ``config`` (made by :func:`server_config` with ``stats``)."""
    return GuardedServer(config, settings or HQServerSettings.model_validate({}), stats)


def apply_settings(deps: HQDeps, settings: HQServerSettings) -> UploadExpiry:
    """Give the stores the settings' housekeeping values; the expiry thread, not started."""
    deps.clips.abandon_after = dt.timedelta(seconds=settings.upload_abandon_after_s)
    return UploadExpiry(deps.clips, settings.upload_expiry_every_s)


def retention_schedule(deps: HQDeps) -> RetentionSchedule:
    """The hourly retention run (hq/retention/), not started."""
    return RetentionSchedule(RetentionRun(deps.retention, deps.clips, deps.audit))
