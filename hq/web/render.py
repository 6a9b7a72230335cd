"""Server-rendered pages: one Jinja2 environment, its filters and ``render``.

Auto-escaping is on for every template, and every ``{{ value }}`` first passes
:func:`visible` (the environment's ``finalize``), so control and bidirectional
characters in ids and names coming from units show as ``[U+202E]`` instead of
reordering or hiding the text around them. ``Markup`` values (``csrf_field()``) pass
unchanged. Undefined template variables are errors (StrictUndefined), not blanks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from hq.accounts import roles
from hq.accounts.users import User
from hq.text import visible
from hq.web.i18n import (
    LANGUAGE_NAMES,
    gettext_for,
    local_time,
    ngettext_for,
    pgettext_for,
    pick_language,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class NavItem:
    """A link in the page header, shown only to roles with ``permission``."""

    path: str
    label: str  # a message id, translated when rendered
    permission: str


NAV: tuple[NavItem, ...] = (
    NavItem("/", "Dashboard", roles.FIGURES),
    NavItem("/transactions", "Transactions", roles.SEARCH),
    NavItem("/windows", "Windows", roles.FIGURES),
    NavItem("/events", "Events", roles.FIGURES),
    NavItem("/reports", "Reports", roles.FIGURES),
    NavItem("/alerts", "Alerts", roles.FIGURES),
    NavItem("/units", "Units", roles.FIGURES),
    NavItem("/org", "Organisation", roles.MANAGE_ORG),
    NavItem("/staff", "Staff", roles.MANAGE_ORG),
    NavItem("/schedules", "Schedules", roles.MANAGE_ORG),
    NavItem("/users", "Users", roles.MANAGE_USERS),
    NavItem("/audit", "Audit log", roles.READ_AUDIT),
)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True, finalize=visible, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["visible"] = visible
    env.filters["localtime"] = local_time
    return env


ENV = _environment()


def language_of(request: Request, user: User | None) -> str:
    """The user's language; before login, the ``lang`` cookie's (set by /login?lang=)."""
    if user is not None:
        return user.language
    return pick_language(getattr(request.state, "lang", None), request.cookies.get("cu-lang"))


def context(request: Request, user: User | None, **values: Any) -> dict[str, Any]:
    """What every template sees: user, language, ``_``/``pgettext``, ``csrf_field()``, nav."""
    lang = language_of(request, user)
    csrf = getattr(request.state, "csrf", "")
    nav = [n for n in NAV if user is not None and user.may(n.permission)]

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf)

    return {"request": request, "user": user, "lang": lang, "languages": LANGUAGE_NAMES,
            "_": gettext_for(lang), "gettext": gettext_for(lang),
            "ngettext": ngettext_for(lang), "pgettext": pgettext_for(lang),
            "csrf_token": csrf, "csrf_field": csrf_field,
            "nav": nav, "path": request.url.path, **values}


def render(request: Request, template: str, user: User | None, *, status: int = 200,
           headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    """``template`` rendered for ``user`` (None on the login page) as an HTML response."""
    html = ENV.get_template(template).render(context(request, user, **values))
    return HTMLResponse(html, status_code=status, headers=headers)
