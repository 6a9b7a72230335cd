"""/login, /logout and /lang: the pages' way in and out, and the language switch."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hq.accounts.directory_login import NAME_CLASH, NO_GROUP_REASON, UNAVAILABLE_REASON, sign_on
from hq.accounts.users import LANGUAGES, User
from hq.web.auth import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    client_address,
    current_user,
    optional_user,
    web,
)
from hq.web.i18n import pick_language
from hq.web.render import render

# Directory sign-on's own refusals (hq/accounts/directory_login.py): status, message.
_DIRECTORY_REFUSALS = {
    NO_GROUP_REASON: (403, "Your directory account is in no group that may use HQ; ask "
                      "your administrator to add you to one."),
    UNAVAILABLE_REASON: (503, "The bank's directory cannot be reached; try again later "
                         "(local accounts can still log in)."),
    NAME_CLASH: (403, "This name is both a directory user and a local account; ask your "
                 "administrator."),
}
_COOKIE = {"httponly": True, "secure": True, "samesite": "strict", "path": "/"}


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other sites) becomes ``/``."""
    # Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil") and read
    # "\\" as "/", so any control character or backslash is refused outright.
    if (not target or not target.startswith("/") or target.startswith("//")
            or any(c == "\\" or not c.isprintable() for c in target)):
        return "/"
    return target[:2048]


def _login_page(request: Request, next_url: str, *, error: str | None = None,
                status: int = 200, headers: dict[str, str] | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    request.state.csrf = token
    resp = render(request, "login.html", None, status=status, headers=headers,
                  next_url=next_url, error=error)
    resp.set_cookie(LOGIN_COOKIE, token, max_age=3600, **_COOKIE)  # type: ignore[arg-type]
    return resp


def build_login_router() -> APIRouter:
    """GET/POST /login, POST /logout, POST /lang."""
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    def login_form(request: Request, user: Annotated[User | None, Depends(optional_user)],
                   next_url: Annotated[str | None, Query(alias="next")] = None,
                   lang: str | None = None) -> Response:
        """The login form; ``?lang=en`` chooses its language before anyone logs in."""
        if user is not None:
            return RedirectResponse(safe_next(next_url), status_code=303)
        if lang is not None:
            request.state.lang = pick_language(lang)
        resp = _login_page(request, safe_next(next_url))
        if lang is not None:
            resp.set_cookie(LANG_COOKIE, pick_language(lang), max_age=365 * 86400,
                            **_COOKIE)  # type: ignore[arg-type]
        return resp

    @router.post("/login")
    def login(request: Request, username: Annotated[str, Form(max_length=256)] = "",
              password: Annotated[str, Form(max_length=4096)] = "",
              csrf_token: Annotated[str, Form(max_length=256)] = "",
              next_url: Annotated[str, Form(alias="next", max_length=4096)] = "/") -> Response:
        """Check the form (its CSRF pair, then the password behind the throttle)."""
        ctx = web(request)
        target = safe_next(next_url)
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
            return _login_page(request, target, status=403,
                               error="This form has expired; reload the page and try again.")
        outcome = sign_on(ctx.users, ctx.deps.audit, ctx.deps.directory, username, password,
                          client=client_address(request), via="page", now=ctx.clock())
        if outcome.user is None:
            if outcome.retry_after_s or outcome.reason == "locked":
                return _login_page(
                    request, target, status=429,
                    headers={"Retry-After": str(max(outcome.retry_after_s, 60))},
                    error="Too many failed logins. Try again later or ask an administrator.")
            refusal = _DIRECTORY_REFUSALS.get(outcome.reason)
            if refusal is not None:
                return _login_page(request, target, status=refusal[0], error=refusal[1])
            return _login_page(request, target, status=401,
                               error="Wrong username or password.")
        ctx.users.sessions.purge(ctx.clock())  # rows that can never be valid again
        session_id, _csrf = ctx.users.sessions.create(outcome.user.username,
                                                      client_address(request), ctx.clock())
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(SESSION_COOKIE, session_id, **_COOKIE)  # type: ignore[arg-type]
        resp.delete_cookie(LOGIN_COOKIE, **_COOKIE)  # type: ignore[arg-type]
        return resp

    @router.post("/logout")
    def logout(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
        """End this session (its CSRF token was checked by current_user)."""
        web(request).users.sessions.revoke(request.cookies.get(SESSION_COOKIE, ""))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, **_COOKIE)  # type: ignore[arg-type]
        return resp

    @router.post("/lang")
    def set_language(request: Request, user: Annotated[User, Depends(current_user)],
                     lang: Annotated[str, Form(max_length=16)],
                     next_url: Annotated[str, Form(alias="next", max_length=4096)] = "/"
                     ) -> Response:
        """Store the user's language and go back to the page they were on."""
        web(request).users.set_language(user.username, pick_language(lang)
                                        if lang not in LANGUAGES else lang)
        return RedirectResponse(safe_next(next_url), status_code=303)

    return router
