"""The admin's account API: list and create users, and disable, enable, unlock or end
the sessions and tokens of one (admin only; every change audited).

Mounted inside the users router (prefix /v1) by :func:`hq.api.users.routes.build_users_router`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from hq.accounts import roles as perm
from hq.accounts.passwords import MAX_PASSWORD, MIN_PASSWORD
from hq.accounts.users import (
    DEFAULT_LANGUAGE,
    Contact,
    InvalidAccount,
    User,
    UserError,
    UserExists,
    UserStore,
)
from hq.api.derive import list_of, response_model, values_of
from hq.api.users.bearer import Bearer, BearerGate, Refused
from hq.storage.scope import Scope

USER_CREATE = "user_create"
ACTIONS = ("disable", "enable", "unlock", "revoke")


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)
    role: str = Field(..., description=f"One of {sorted(perm.ROLES)}")
    scope: str | None = Field(None, max_length=80,
                              description="'all', 'branch:ID' or 'hall:ID' (admin: all)")
    language: str = Field(DEFAULT_LANGUAGE, max_length=8, description="zh-CN or en")
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    im: str | None = Field(None, max_length=128)


USER_FLATTEN = ("contact",)
USER_CONVERT = {"scope": Scope.text}
USER_HIDDEN: tuple[str, ...] = ()  # fields of User the API leaves out (none today)


def user_model(source: type = User, hidden: tuple[str, ...] = USER_HIDDEN
               ) -> type[BaseModel]:
    """What the API shows of an account: every field of ``source`` (the account
    dataclass) less ``hidden``, its contact inline and its scope as text. The password
    hash never leaves the store; a secret-looking field that is not hidden is refused."""
    return response_model("UserOut", source, exclude=hidden, flatten=USER_FLATTEN,
                          types={"scope": str}, required=True, doc="")


UserOut = user_model()


def user_out(u: User) -> BaseModel:
    """The API's view of an account."""
    return UserOut(**values_of(u, UserOut, flatten=USER_FLATTEN, convert=USER_CONVERT))


class ActionOut(BaseModel):
    username: str
    action: str
    changed: int = Field(..., description="sessions/tokens ended (revoke), else 0 or 1")


def build_accounts_router(gate: BearerGate, store: UserStore) -> APIRouter:
    """GET/POST /users, POST /users/{username}/{disable|enable|unlock|revoke}."""
    router = APIRouter()

    @router.get("/users", response_model=list_of(UserOut))
    def list_users(request: Request, cred: Bearer) -> Any:
        """Every account, by name (admin only)."""
        try:
            gate.principal(cred, perm.MANAGE_USERS, request)
        except Refused as r:
            return r.response(request)
        return [user_out(u) for u in store.users()]

    @router.post("/users", response_model=UserOut, status_code=201)
    def create_user(body: NewUser, request: Request, cred: Bearer) -> Any:
        """Create an account with a role (admin only)."""
        try:
            admin = gate.principal(cred, perm.MANAGE_USERS, request)
            try:
                scope = Scope.parse(body.scope) if body.scope is not None else None
            except ValueError as exc:
                raise InvalidAccount(str(exc)) from exc
            problem = perm.scope_rule(body.role, scope)
            if problem:
                raise InvalidAccount(problem)
            created = store.create_user(
                body.username, body.password, body.role, scope=scope, language=body.language,
                contact=Contact(body.email, body.phone, body.im), now=gate.now())
            gate.audit(admin, USER_CREATE, "user", created.username, request,
                  f"role={created.role}; scope={created.scope.text()}")
        except Refused as r:
            return r.response(request)
        except UserExists as exc:
            return Refused(409, "user_exists", str(exc)).response(request)
        except UserError as exc:
            return Refused(400, "invalid_user", str(exc)).response(request)
        return user_out(created)


    @router.post("/users/{username}/{action}", response_model=ActionOut)
    def change(username: str, action: str, request: Request, cred: Bearer) -> Any:
        """disable, enable, unlock, or revoke (end every session and token) one account."""
        try:
            admin = gate.principal(cred, perm.MANAGE_USERS, request)
            if action not in ACTIONS:
                raise Refused(404, "not_found", f"action {action!r} must be one of {ACTIONS}")
            try:
                store.user(username)
            except UserError as exc:
                raise Refused(404, "not_found", str(exc)) from exc
            if username == admin.username and action == "disable":
                raise Refused(400, "invalid_user", "an admin cannot disable itself")
            changed = 1
            if action == "disable":
                store.disable_user(username)
            elif action == "enable":
                store.enable_user(username)
            elif action == "unlock":
                changed = int(store.unlock(username))
            else:
                changed = store.revoke_access(username)
            gate.audit(admin, f"user_{action}", "user", username, request,
                       f"changed={changed}")
        except Refused as r:
            return r.response(request)
        return ActionOut(username=username, action=action, changed=changed)

    return router
