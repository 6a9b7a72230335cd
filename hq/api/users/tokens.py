"""Bearer tokens for HQ's people: log in with a username and password, log out.

Failures are throttled like the pages' logins (hq/accounts/logins.py); a lock and a
throttle look alike, so a lock does not reveal that the account exists.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from hq.accounts import passwords
from hq.accounts.logins import attempt_login, printable
from hq.accounts.users import IssuedToken
from hq.api.derive import response_model, values_of
from hq.api.users.bearer import Bearer, BearerGate, Refused, client_of

log = logging.getLogger(__name__)


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=passwords.MAX_PASSWORD)


# The token as issued, less whose it is (the caller knows).
TokenOut = response_model("TokenOut", IssuedToken, exclude=("username",), doc="")


def build_tokens_router(gate: BearerGate, token_ttl: dt.timedelta) -> APIRouter:
    """``POST/DELETE /auth/token`` (mounted under /v1 by the users router), over the
    gate's user store, audit log and clock."""
    router = APIRouter()
    store, audit_log, now, authenticated = gate.store, gate.audit_log, gate.now, gate.authenticated

    @router.post("/auth/token", response_model=TokenOut)
    def login(body: Credentials, request: Request) -> Any:
        """Exchange a username and password for a bearer token."""
        outcome = attempt_login(store, audit_log, body.username, body.password,
                                client=client_of(request), via="api", now=now())
        user = outcome.user
        if user is None:
            note = f"login as {printable(body.username[:64])!r}: {outcome.reason}"
            if outcome.retry_after_s or outcome.reason == "locked":
                # Throttled and locked look alike, so a lock does not reveal the account.
                return Refused(429, "too_many_failures",
                               "too many failed logins; try again later or ask an admin",
                               {"Retry-After": str(max(outcome.retry_after_s, 60))},
                               note=note).response(request)
            return Refused(401, "bad_credentials", "wrong username or password",
                           note=note).response(request)
        issued = store.issue_token(user.username, token_ttl, now=now())
        return TokenOut(**values_of(issued, TokenOut))

    @router.delete("/auth/token", status_code=204, response_class=Response)
    def logout(request: Request, cred: Bearer) -> Response:
        """Revoke the bearer token this request carries."""
        try:
            user = authenticated(cred, request)
        except Refused as r:
            return r.response(request)
        assert cred is not None  # authenticated() refused a missing token
        store.revoke_token(cred.credentials)
        log.info("user %s logged out", user.username)
        return Response(status_code=204)

    return router
