"""/alerts/policy: the alert policy as one JSON document, edited and stored with versions
(admin only). A document that does not validate is refused whole, naming the field."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from hq.accounts.users import User
from hq.alerts import policy_store
from hq.alerts.policy import PolicyDoc
from hq.api.deps import HQDeps
from hq.web.auth import PageError, current_user, web
from hq.web.render import render


async def _admin(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role != "admin":
        raise PageError(403, "Your role may not open this page.")
    return user


Admin = Annotated[User, Depends(_admin)]
# The kinds of recipient a level may name (hq.alerts.policy.Recipients), for the page.
RECIPIENT_KINDS = (
    ("staff", "The staff member the alert is about, at the phone, e-mail or IM id of their "
              "staff record; a channel they have no contact for is recorded as skipped.",
     '"recipients": {"staff": true}'),
    ("roles", "HQ users of these roles whose scope covers the alert's hall or branch.",
     '"recipients": {"roles": ["hall_supervisor", "branch_manager"]}'),
    ("users", "These HQ users, wherever their scope is.",
     '"recipients": {"users": ["duty.officer"]}'),
    ("addresses", "Explicit addresses of people who are not HQ users.",
     '"recipients": {"addresses": [{"name": "security desk", "phone": "+8613800000000"}]}'),
)


def problems(exc: ValidationError) -> list[str]:
    """``field.path: rule`` per problem."""
    return [f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}"
            for e in exc.errors()[:20]]


def build_alerts_policy_router(deps: HQDeps) -> APIRouter:
    """GET and POST /alerts/policy."""
    router = APIRouter(include_in_schema=False)

    def page(request: Request, user: User, text: str | None, errors: list[str],
             status: int = 200) -> Response:
        with deps.alert_service().db() as conn:
            current = policy_store.current(conn)
            versions = policy_store.history(conn)
        if text is None:
            text = json.dumps(current.doc.model_dump(mode="json"), indent=2,
                              ensure_ascii=False)
        return render(request, "alerts_policy.html", user, text=text, errors=errors,
                      version=current.version, versions=versions, status=status,
                      recipient_kinds=RECIPIENT_KINDS)

    @router.get("/alerts/policy")
    def policy_page(request: Request, user: Admin) -> Response:
        return page(request, user, None, [])

    @router.post("/alerts/policy")
    def policy_save(request: Request, user: Admin,
                    policy: Annotated[str, Form(max_length=1_000_000)]) -> Response:
        try:
            doc = PolicyDoc.model_validate_json(policy)
        except ValidationError as exc:
            return page(request, user, policy, problems(exc), status=400)
        with deps.alert_service().db() as conn:
            policy_store.put(conn, doc, user.username, web(request).clock())
        return RedirectResponse("/alerts/policy", status_code=303)

    return router
