"""Who is asking: page sessions, CSRF, and the ``current_user``/``require`` dependencies.

A page request without a live session is sent to ``/login`` (303, with ``next``); a
request that does not ask for HTML (fetch, EventSource) gets 401 JSON instead. Every
POST/PUT/PATCH/DELETE through a session must carry the session's CSRF token, in the
form field ``csrf_token`` (``{{ csrf_field() }}``) or the ``X-CSRF-Token`` header
(``static/app.js`` adds it). The /v1 JSON API keeps its bearer tokens and is not
touched by any of this.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from hq.accounts.users import User, UserStore
from hq.api.deps import HQDeps
from hq.clock import utc_now
from hq.web.render import CSRF_FIELD

log = logging.getLogger(__name__)

SESSION_COOKIE = "__Host-cu-session"  # __Host-: Secure, Path=/, no Domain, by the browser
LOGIN_COOKIE = "__Host-cu-login"  # the login form's CSRF token before a session exists
LANG_COOKIE = "cu-lang"
CSRF_HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class WebContext:
    """What the page routers share, kept on ``app.state.web``."""

    deps: HQDeps
    users: UserStore
    clock: Callable[[], dt.datetime] = field(default=utc_now)


class LoginRequired(Exception):
    """No live session: 303 to /login for pages, 401 for everything else."""


class PageError(Exception):
    """A refusal shown as a page (or JSON to a non-HTML client): status and message.

    ``message`` is an English message id (with ``%(name)s`` slots filled from
    ``values``), translated into the reader's language when shown.
    """

    def __init__(self, status: int, message: str, **values: str) -> None:
        super().__init__(message)
        self.status, self.message, self.values = status, message, values


class CsrfRefused(PageError):
    """A state-changing request without the session's CSRF token (403)."""


def web(request: Request) -> WebContext:
    """The shared context of the app serving ``request``."""
    ctx: WebContext = request.app.state.web
    return ctx


def client_address(request: Request) -> str:
    """The peer's address (behind a reverse proxy: the proxy's; see hq/web/README.md)."""
    return request.client.host if request.client else "unknown"


def wants_html(request: Request) -> bool:
    """Whether the client asked for a page (browsers' navigations say text/html)."""
    return "text/html" in request.headers.get("accept", "")


async def _csrf_ok(request: Request, expected: str) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent.encode(), expected.encode())


def _session(request: Request) -> tuple[User, str] | None:
    # A plain def: FastAPI runs it in its thread pool, so the SQLite read (and the
    # occasional touch, a synced write) never holds up the event loop and its streams.
    ctx = web(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    return ctx.users.user_for_session(cookie, ctx.clock()) if cookie else None


async def optional_user(request: Request, found: Annotated[tuple[User, str] | None,
                                                          Depends(_session)]) -> User | None:
    """The user of the request's live session, or None; checks CSRF on unsafe methods."""
    if found is None:
        return None
    user, csrf = found
    request.state.csrf = csrf
    request.state.username = user.username  # refusals' log lines name the user
    request.state.page_user = user  # error pages show the user's language and menu
    if request.method in UNSAFE and not await _csrf_ok(request, csrf):
        log.warning("CSRF token missing or wrong: %s %s by %s", request.method,
                    request.url.path, user.username)
        raise CsrfRefused(403, "This form has expired; reload the page and try again.")
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The logged-in user (with ``.role`` and ``.scope``); LoginRequired without one."""
    if user is None:
        raise LoginRequired()
    return user


def require(permission: str) -> Callable[..., Awaitable[User]]:
    """A dependency: the current user if their role has ``permission``, else a 403 page."""
    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if not user.may(permission):
            raise PageError(403, "Your role may not open this page.")
        return user

    return dependency
