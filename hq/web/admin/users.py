"""/users: the admin's page of accounts (add, role and scope, disable/enable, password,
unlock, end sessions). Every change is audited; a bad value re-shows the page with 400
and nothing written."""

from __future__ import annotations

import logging
import sqlite3
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hq.accounts import roles
from hq.accounts.logins import printable
from hq.accounts.users import LANGUAGES, Contact, InvalidAccount, User, UserError, UserExists
from hq.api.deps import HQDeps
from hq.storage import StorageError
from hq.storage.scope import Scope
from hq.web.auth import PageError, client_address, require, web
from hq.web.render import render

log = logging.getLogger(__name__)

Admin = Annotated[User, Depends(require(roles.MANAGE_USERS))]
Text = Annotated[str, Form(max_length=256)]
# Messages shown after a change (ids of the catalogue; %(user)s is the account).
DONE = {
    "added": "User %(user)s added.", "disabled": "User %(user)s disabled.",
    "enabled": "User %(user)s enabled.", "unlocked": "User %(user)s unlocked.",
    "revoked": "Sessions and tokens of %(user)s ended.",
    "password": "Password of %(user)s changed.", "role": "Role of %(user)s changed.",
}


def _scope(text: str) -> Scope | None:
    text = text.strip()
    if not text:
        return None
    try:
        return Scope.parse(text)
    except ValueError as exc:
        raise InvalidAccount(str(exc)) from exc


def build_users_admin_router(deps: HQDeps) -> APIRouter:
    """GET/POST /users and POST /users/{username}/{action}."""
    router = APIRouter(include_in_schema=False)

    def audit(request: Request, admin: User, action: str, username: str,
              detail: str = "") -> None:
        try:
            deps.audit.append(actor=admin.username, role=admin.role, action=action,
                              object_type="user", object_id=printable(username, 64),
                              client=client_address(request), detail=detail)
        except (StorageError, sqlite3.Error) as exc:
            log.error("audit log write failed (%s) for %s of %s", exc, action, username)

    def page(request: Request, admin: User, *, status: int = 200, error: str | None = None,
             notice: str | None = None, values: dict[str, str] | None = None) -> Response:
        users = web(request).users
        now = web(request).clock()
        rows = [(u, users.guard.locked(u.username),
                 len(users.sessions.live(now, u.username))) for u in users.users()]
        return render(request, "users.html", admin, status=status, rows=rows,
                      roles=sorted(roles.ROLES), languages_list=LANGUAGES, error=error,
                      error_values=values or {}, notice=notice)

    @router.get("/users")
    def list_users(request: Request, admin: Admin, done: str | None = None,
                   who: str | None = None) -> Response:
        notice = DONE.get(done or "")
        return page(request, admin, notice=notice,
                    values={"user": who or ""} if notice else None)

    def done(action: str, username: str) -> Response:
        return RedirectResponse(f"/users?done={action}&who={quote(username)}", status_code=303)

    @router.post("/users")
    def add_user(request: Request, admin: Admin, username: Text, password: Text, role: Text,
                 scope: Text = "", language: Text = "zh-CN", email: Text = "",
                 phone: Text = "", im: Text = "") -> Response:
        users = web(request).users
        try:
            s = _scope(scope)
            problem = roles.scope_rule(role, s)
            if problem:
                raise InvalidAccount(problem)
            created = users.create_user(username, password, role, scope=s, language=language,
                                        contact=Contact(email, phone, im))
        except UserExists:
            return page(request, admin, status=409, error="User %(user)s already exists.",
                        values={"user": username})
        except UserError as exc:
            return page(request, admin, status=400, error="Not added: %(why)s",
                        values={"why": str(exc)})
        audit(request, admin, "user_create", created.username,
              f"role={created.role}; scope={created.scope.text()}")
        return done("added", created.username)

    @router.post("/users/{username}/{action}")
    def change(request: Request, admin: Admin, username: str, action: str,
               password: Text = "", role: Text = "", scope: Text = "") -> Response:
        users = web(request).users
        try:
            users.user(username)
        except UserError as exc:
            raise PageError(404, "There is no user %(user)s.", user=username) from exc
        if username == admin.username and action in ("disable", "role"):
            return page(request, admin, status=400,
                        error="You cannot disable your own account or change your own role.")
        detail = ""
        try:
            if action == "disable":
                users.disable_user(username)
            elif action == "enable":
                users.enable_user(username)
            elif action == "unlock":
                users.unlock(username)
            elif action == "revoke":
                detail = f"ended={users.revoke_access(username)}"
            elif action == "password":
                users.set_password(username, password)
            elif action == "role":
                users.set_role(username, role, _scope(scope))
            else:
                raise PageError(404, "There is no such page.")
        except UserError as exc:
            return page(request, admin, status=400, error="Not changed: %(why)s",
                        values={"why": str(exc)})
        name = {"disable": "user_disable", "enable": "user_enable", "unlock": "user_unlock",
                "revoke": "user_revoke", "password": "user_password", "role": "user_role"}
        if action == "role":
            detail = f"role={role}; scope={scope.strip() or 'all'}"
        audit(request, admin, name[action], username, detail)
        return done({"disable": "disabled", "enable": "enabled", "unlock": "unlocked",
                     "revoke": "revoked", "password": "password", "role": "role"}[action],
                    username)

    return router
