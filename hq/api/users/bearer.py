"""Bearer-token callers of the HQ-user API: who they are, what they may do, the audit.

Shared by the routers in hq/api/users/ (tokens, transactions, clips, audit_log, accounts). Errors
are JSON ``{"error": code, "detail": text}`` through :class:`Refused`.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hq.accounts.logins import printable
from hq.accounts.users import User, UserStore
from hq.api.errors import ErrorBody, error_response
from hq.storage import AuditLog, StorageError

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="Token from POST /v1/auth/token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class Refused(Exception):
    """A request answered with a 4xx/503 JSON error; ``note`` is for the log line only."""

    def __init__(self, status: int, error: str, detail: str,
                 headers: dict[str, str] | None = None, *, note: str = "") -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers
        self.note = note

    def response(self, request: Request) -> JSONResponse:
        """The answer, logged once (hq.api.errors names the user and the client)."""
        return error_response(request, self.status, self.error, self.detail, self.headers,
                              note=self.note)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 429, 503)}


def client_of(request: Request) -> str:
    """The peer's address as the audit log records it."""
    return request.client.host if request.client else "unknown"


class BearerGate:
    """Token check, permission check and audit writes for one user store and audit log."""

    def __init__(self, store: UserStore, audit_log: AuditLog,
                 now: Callable[[], dt.datetime]) -> None:
        self.store, self.audit_log, self.now = store, audit_log, now

    def audit(self, user: User | None, action: str, object_type: str, object_id: str,
              request: Request, detail: str) -> None:
        """Write one record; a failure refuses the request (503): fail closed."""
        try:
            self.audit_log.append(actor=user.username if user else "anonymous",
                                  role=user.role if user else "none", action=action,
                                  object_type=object_type, object_id=printable(object_id),
                                  client=client_of(request), detail=printable(detail))
        except (StorageError, sqlite3.Error) as exc:
            # Fail closed: a recording read that cannot be recorded is not served.
            log.error("audit log write failed (%s); refusing %s", exc, action)
            raise Refused(503, "audit_unavailable",
                          "the audit log cannot be written; try again later") from exc

    def authenticated(self, cred: HTTPAuthorizationCredentials | None,
                      request: Request) -> User:
        """The token's user, or Refused 401."""
        user = self.store.user_for_token(cred.credentials, self.now()) if cred else None
        if user is None:
            raise Refused(401, "unauthenticated", "a valid bearer token is required",
                          {"WWW-Authenticate": "Bearer"})
        request.state.username = user.username  # refusals' log lines name the user
        return user

    @staticmethod
    def require(user: User, action: str, request: Request) -> User:
        """``user`` if their role allows ``action``, else Refused 403."""
        if not user.may(action):
            raise Refused(403, "forbidden", f"role {user.role} may not {action}")
        return user

    def principal(self, cred: HTTPAuthorizationCredentials | None, action: str,
                  request: Request) -> User:
        """Authenticated and allowed ``action``."""
        return self.require(self.authenticated(cred, request), action, request)
