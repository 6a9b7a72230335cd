"""HQ's pages, on the same FastAPI app as the /v1 JSON API (see hq/web/README.md).

``mount_web`` adds the static files, the login pages, every page router listed in
``page_routers`` and the page-aware error handlers; the /v1 API is left as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hq.accounts.roles import FIGURES
from hq.accounts.users import User, UserStore
from hq.api.deps import HQDeps
from hq.web.auth import LoginRequired, PageError, WebContext, require, wants_html
from hq.web.i18n import gettext_for
from hq.web.render import STATIC_DIR, language_of, render

# script-src 'self': no inline script anywhere; styles may be inline (bar widths).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; media-src 'self'; connect-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
_PAGE_HEADERS = [(b"content-security-policy", CSP.encode()),
                 (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"same-origin"),
                 (b"cache-control", b"no-store")]


def page_routers(deps: HQDeps) -> list[APIRouter]:
    """Every page router; each part of HQ adds its ``build_X_router(deps)`` here."""
    from hq.web.admin.audit import build_audit_router
    from hq.web.admin.org_pages import build_org_pages_router
    from hq.web.admin.users import build_users_admin_router
    from hq.web.alerts.pages import build_alerts_router
    from hq.web.alerts.policy import build_alerts_policy_router
    from hq.web.live.dashboard import build_dashboard_router
    from hq.web.live.event_counts import build_event_counts_router
    from hq.web.live.units import build_units_router
    from hq.web.live.windows import build_windows_router
    from hq.web.login import build_login_router
    from hq.web.reports.inputs import build_reports_inputs_router
    from hq.web.reports.pages import build_reports_router
    from hq.web.transactions.clips import build_clips_page_router
    from hq.web.transactions.legal_hold import build_legal_hold_router
    from hq.web.transactions.pages import build_transactions_router

    return [
        build_login_router(),
        build_users_admin_router(deps),
        build_audit_router(deps),
        build_org_pages_router(deps),
        build_dashboard_router(deps),
        build_transactions_router(deps),
        build_legal_hold_router(deps),
        build_clips_page_router(deps),
        build_windows_router(deps),
        build_event_counts_router(deps),
        build_units_router(deps),
        build_reports_router(deps),
        build_reports_inputs_router(deps),
        build_alerts_policy_router(deps),  # before /alerts/{id}
        build_alerts_router(deps),
    ]


class PageHeaders:
    """Security headers on every response outside /v1 (the pages and their files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", [])
                           if not (static and h[0] == b"cache-control")]
                names = {h[0] for h in headers}
                for name, value in _PAGE_HEADERS:
                    if name not in names and not (static and name == b"cache-control"):
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error_page(request: Request, status: int, message: str,
                values: dict[str, Any] | None = None) -> Response:
    user = getattr(request.state, "page_user", None)
    text = gettext_for(language_of(request, user))(message, **(values or {}))
    if not wants_html(request):
        return JSONResponse({"error": "refused", "detail": text}, status_code=status)
    return render(request, "error.html", user, status=status, message=text)


def install_page_errors(app: FastAPI) -> None:
    """Page-aware handlers; /v1 and non-HTML clients keep the API's JSON answers."""
    api_http: Callable[..., Any] | None = app.exception_handlers.get(StarletteHTTPException)
    api_validation: Callable[..., Any] | None = app.exception_handlers.get(
        RequestValidationError)

    async def login_required(request: Request, exc: Exception) -> Response:
        if not wants_html(request):
            return JSONResponse({"error": "unauthenticated", "detail": "log in first"},
                                status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return _error_page(request, exc.status, exc.message, exc.values)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/v1") or not wants_html(request):
            if api_http is not None:
                return await api_http(request, exc)
            return JSONResponse({"error": "http", "detail": str(exc.detail)},
                                status_code=exc.status_code)
        message = {404: "There is no such page.", 405: "This page does not take that request."
                   }.get(exc.status_code, "The request was refused.")
        return _error_page(request, exc.status_code, message)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith("/v1") or not wants_html(request):
            if api_validation is not None:
                return await api_validation(request, exc)
            return JSONResponse({"error": "invalid", "detail": str(exc)}, status_code=400)
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "?"
        return _error_page(request, 400, "The field %(field)s is not valid: %(why)s",
                           {"field": field, "why": str(first.get("msg", ""))})

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _fallback_router() -> APIRouter:
    """``/`` until the dashboard's router (listed before this one) takes it."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home(request: Request, user: Annotated[User, Depends(require(FIGURES))]) -> Response:
        return render(request, "home.html", user)

    return router


def mount_web(app: FastAPI, deps: HQDeps, users: UserStore, *,
              clock: Callable[[], dt.datetime] | None = None) -> None:
    """Add HQ's pages to ``app`` (after the API's routers and error handlers)."""
    app.state.web = WebContext(deps, users) if clock is None else WebContext(deps, users, clock)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in page_routers(deps):
        app.include_router(router)
    app.include_router(_fallback_router())
    install_page_errors(app)
    app.add_middleware(PageHeaders)
