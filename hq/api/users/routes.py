"""The API for HQ's people, with a bearer token: tokens, transactions, clips, the audit log
and (for admins) accounts, one router each, mounted under /v1.

Errors are JSON ``{"error": code, "detail": text}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter

from hq.accounts.users import DEFAULT_TOKEN_TTL, UserStore
from hq.api.deps import HQDeps
from hq.api.users.accounts import build_accounts_router
from hq.api.users.audit_log import build_audit_router
from hq.api.users.bearer import ERRORS, BearerGate
from hq.api.users.clips import build_clips_router
from hq.api.users.tokens import build_tokens_router
from hq.api.users.transactions import build_transactions_router


def build_users_router(deps: HQDeps, users: UserStore | None = None, *,
                       token_ttl: dt.timedelta = DEFAULT_TOKEN_TTL,
                       clock: Callable[[], dt.datetime] | None = None) -> APIRouter:
    """Routes for HQ users; opens ``users.db`` beside the config folder if not given."""
    store = users if users is not None else UserStore(deps.config_dir.parent / "users.db")
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    router = APIRouter(prefix="/v1", tags=["hq-users"], responses=ERRORS)
    gate = BearerGate(store, deps.audit, now)
    router.include_router(build_tokens_router(gate, token_ttl))
    router.include_router(build_transactions_router(gate, deps))
    router.include_router(build_clips_router(gate, deps))
    router.include_router(build_audit_router(gate, deps))
    router.include_router(build_accounts_router(gate, store))
    return router
