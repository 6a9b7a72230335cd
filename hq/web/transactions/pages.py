"""``/transactions``: search (branch, hall, window, staff, time range, rating, duration,
has an alert), paged; ``/transactions/{unit}/{txn}``: one transaction with its clip in
a <video>, its timeline and a download button. Searches, views, plays and downloads
are all in the audit log; everything is looked up in the user's scope.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import zoneinfo
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.reports.query.queue import ticket_of
from hq.storage import SEARCH, TRANSACTION_VIEW, InvalidInput, StorageError
from hq.storage.scope import Scope
from hq.web.auth import PageError, require
from hq.web.live.db import conn_for
from hq.web.render import render
from hq.web.transactions.clip import audit, clip_response
from hq.web.transactions.legal_hold import hold_context
from hq.web.transactions.query import TxnFilter, one, search, timeline

Searcher = Annotated[User, Depends(require(roles.SEARCH))]
Viewer = Annotated[User, Depends(require(roles.VIEW))]
Player = Annotated[User, Depends(require(roles.FIGURES))]  # PLAY/DOWNLOAD checked per request


@dataclass(frozen=True)
class Choices:
    """The tree in scope, for the form's drop-downs: (id, label, tz) per node."""

    branches: list[tuple[str, str, str]]
    halls: list[tuple[str, str, str]]
    windows: list[tuple[str, str, str]]


def choices(conn: sqlite3.Connection, scope: Scope) -> Choices:
    cond, args = scope.window_filter("w.window_id")
    rows = conn.execute(
        "SELECT b.branch_id, b.name, b.tz, h.hall_id, h.name, w.window_id, w.name "
        "FROM org_windows w JOIN org_halls h ON h.hall_id = w.hall_id "
        f"JOIN org_branches b ON b.branch_id = h.branch_id WHERE {cond} "
        "ORDER BY b.name, h.name, w.name", args).fetchall()
    branches: dict[str, tuple[str, str, str]] = {}
    halls: dict[str, tuple[str, str, str]] = {}
    windows = []
    for b, bn, tz, h, hn, w, wn in rows:
        branches.setdefault(b, (b, bn, tz))
        halls.setdefault(h, (h, f"{bn} / {hn}", tz))
        windows.append((w, f"{bn} / {hn} / {wn}", tz))
    return Choices(list(branches.values()), list(halls.values()), windows)


def _text(form: dict[str, str], key: str, known: list[tuple[str, str, str]] | None = None
          ) -> str | None:
    v = form.get(key, "").strip()
    if not v:
        return None
    if len(v) > 64:
        raise PageError(400, "%(field)s: at most 64 characters.", field=key)
    if known is not None and v not in {k[0] for k in known}:
        # Not in the user's scope, or not at all: the same answer either way.
        raise PageError(400, "%(field)s: %(value)s is not one of the choices.", field=key,
                        value=v)
    return v


def _number(form: dict[str, str], key: str, lo: float, hi: float) -> float | None:
    v = form.get(key, "").strip()
    if not v:
        return None
    try:
        n = float(v)
    except ValueError:
        raise PageError(400, "%(field)s: %(value)s is not a number.", field=key,
                        value=v[:32]) from None
    if not lo <= n <= hi:
        raise PageError(400, "%(field)s: must be within %(lo)s..%(hi)s.", field=key,
                        lo=f"{lo:g}", hi=f"{hi:g}")
    return n


def _day(form: dict[str, str], key: str, tz: str) -> dt.datetime | None:
    v = form.get(key, "").strip()
    if not v:
        return None
    try:
        day = dt.date.fromisoformat(v)
    except ValueError:
        raise PageError(400, "%(field)s: %(value)s is not a date (YYYY-MM-DD).", field=key,
                        value=v[:32]) from None
    return dt.datetime.combine(day, dt.time(), zoneinfo.ZoneInfo(tz)).astimezone(dt.UTC)


def parse_filter(form: dict[str, str], ch: Choices) -> tuple[TxnFilter, str]:
    """The search form as a :class:`TxnFilter` and the zone its dates are read in;
    PageError 400 naming the field and the rule for a bad value."""
    branch = _text(form, "branch", ch.branches)
    hall = _text(form, "hall", ch.halls)
    window = _text(form, "window", ch.windows)
    tz = next((t for i, _n, t in ch.windows if i == window), None) \
        or next((t for i, _n, t in ch.halls if i == hall), None) \
        or next((t for i, _n, t in ch.branches if i == branch), None) \
        or (ch.branches[0][2] if ch.branches else "UTC")
    start, end = _day(form, "from", tz), _day(form, "to", tz)
    if end is not None:
        end += dt.timedelta(days=1)  # "to" is the last day shown, inclusive
    if start is not None and end is not None and end <= start:
        raise PageError(400, "to: must not be before from.")
    rating = _number(form, "rating", 0, 5)
    dmin, dmax = _number(form, "dmin", 0, 1440), _number(form, "dmax", 0, 1440)
    alert = form.get("alert", "")
    if alert not in ("", "yes", "no"):
        raise PageError(400, "%(field)s: must be yes, no or empty.", field="alert")
    page = _number(form, "page", 1, 100000)
    return TxnFilter(
        branch_id=branch, hall_id=hall, window_id=window, staff_id=_text(form, "staff"),
        utc_from=start, utc_to=end, rating=None if rating is None else int(rating),
        duration_min_s=None if dmin is None else dmin * 60,
        duration_max_s=None if dmax is None else dmax * 60,
        has_alert={"": None, "yes": True, "no": False}[alert],
        page=1 if page is None else int(page)), tz


def build_transactions_router(deps: HQDeps) -> APIRouter:
    """GET /transactions, /transactions/{unit}/{txn}, /transactions/{unit}/{txn}/clip."""
    router = APIRouter(include_in_schema=False)

    @router.get("/transactions")
    def transactions(request: Request, user: Searcher) -> Response:
        conn = conn_for(deps)
        form = {k: v for k, v in request.query_params.items()}
        ch = choices(conn, user.scope)
        f, tz = parse_filter(form, ch)
        rows, more = search(conn, user.scope, f)
        audit(deps, user, request, SEARCH, "transactions",
              str(request.url.query) or "*", f"results={len(rows)}; page={f.page}")
        keep = {k: v for k, v in form.items() if v and k != "page"}

        def page_url(n: int) -> str:
            return "/transactions?" + urlencode({**keep, "page": n})

        return render(request, "transactions.html", user, rows=rows, form=form, choices=ch,
                      tz=tz, page=f.page, more=more, page_url=page_url)

    @router.get("/transactions/{unit_id}/{txn_id}")
    def transaction(unit_id: str, txn_id: str, request: Request, user: Viewer) -> Response:
        conn = conn_for(deps)
        txn = one(conn, user.scope, unit_id, txn_id)
        if txn is None:
            raise PageError(404, "No transaction %(id)s here.", id=f"{unit_id}/{txn_id}")
        audit(deps, user, request, TRANSACTION_VIEW, "transaction", f"{unit_id}/{txn_id}",
              "page")
        stored = None
        if txn.clip_id is not None:
            try:
                stored = deps.clips.open_clip(txn.clip_id, unit_id)
            except (StorageError, InvalidInput):  # not at HQ (yet)
                stored = None
        return render(request, "transaction.html", user, t=txn, steps=timeline(conn, txn),
                      stored=stored, can_play=user.may(roles.PLAY),
                      can_download=user.may(roles.DOWNLOAD),
                      ticket=ticket_of(conn, unit_id, txn_id),
                      **hold_context(deps, user, unit_id, txn_id))

    @router.get("/transactions/{unit_id}/{txn_id}/clip")
    def clip(unit_id: str, txn_id: str, request: Request, user: Player,
             download: int = 0) -> Response:
        txn = one(conn_for(deps), user.scope, unit_id, txn_id)
        ident = f"{unit_id}/{txn.clip_id if txn and txn.clip_id else txn_id}"
        return clip_response(deps, user, request, txn, ident, bool(download))

    return router


