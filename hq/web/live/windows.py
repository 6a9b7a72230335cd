"""``/windows``: window usage over a chosen period (seed function 20: every window, should
be staffed per schedule, actually staffed, temporarily closed, away on business,
unexcused off seat) and resource allocation (function 19: customers served per window
against staffed hours), as server-drawn bar charts from :mod:`hq.reports.query.usage`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.web.auth import PageError, require, web
from hq.web.i18n import gettext_for
from hq.web.live.db import conn_for
from hq.web.live.windows_bars import Series, bar_chart
from hq.web.render import render

Viewer = Annotated[User, Depends(require(roles.FIGURES))]
MAX_DAYS = 400
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Period:
    """Whole days ``first``..``last`` (inclusive), as the form gave them."""

    first: dt.date
    last: dt.date

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Bounds that select exactly these calendar days in every branch zone.

        The reports read whole branch-local days, choosing the local days the bounds fall
        on. Noon UTC of a date is that same date in every zone from UTC-11 to UTC+11, so
        ``[first 12:00Z, last 12:00Z]`` selects first..last wherever the branch is.
        """
        noon = dt.time(12, tzinfo=dt.UTC)
        return (dt.datetime.combine(self.first, noon),
                dt.datetime.combine(self.last, noon) + dt.timedelta(microseconds=1))


def parse_period(form: dict[str, str], today: dt.date) -> Period:
    """``from``/``to`` (YYYY-MM-DD, inclusive) or the last seven days; 400 naming the field."""
    def day(key: str, default: dt.date) -> dt.date:
        v = form.get(key, "").strip()
        if not v:
            return default
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise PageError(400, "%(field)s: %(value)s is not a date (YYYY-MM-DD).",
                            field=key, value=v[:32]) from None

    last = day("to", today)
    first = day("from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    if last < first:
        raise PageError(400, "to: must not be before from.")
    if (last - first).days + 1 > MAX_DAYS:
        raise PageError(400, "from/to: at most %(n)s days.", n=str(MAX_DAYS))
    return Period(first, last)


def today_in(tz: str, now: dt.datetime) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(tz)).date()


def hours(seconds: float) -> float:
    return round(seconds / 3600, 1)


def build_windows_router(deps: HQDeps) -> APIRouter:
    """GET /windows."""
    from hq.reports.query.usage import window_usage

    router = APIRouter(include_in_schema=False)

    @router.get("/windows")
    def windows_page(request: Request, user: Viewer) -> Response:
        ctx = web(request)
        form = dict(request.query_params.items())
        now = ctx.clock()
        period = parse_period(form, now.date())
        start, end = period.utc_bounds()
        conn = conn_for(deps)
        report = window_usage(conn, user.scope, start, end, now=now)
        _ = gettext_for(user.language)
        names = [f"{w.hall} {w.name}" for w in report.windows]
        usage = bar_chart(names, [
            Series(_("Scheduled"), [hours(w.scheduled_s) for w in report.windows], "#3b6fb6"),
            Series(_("Staffed"), [hours(w.staffed_s) for w in report.windows], "#5aa469"),
            Series(_("Temporarily closed"), [hours(w.closed_s) for w in report.windows],
                   "#6c757d"),
            Series(_("Away on business"), [hours(w.business_s) for w in report.windows],
                   "#8e6bbf"),
            Series(_("Unexcused off seat"),
                   [hours(w.unexcused_off_seat_s) for w in report.windows], "#d9534f"),
        ], title=_("Window usage (hours)"), unit="h")
        t = report.totals
        totals = bar_chart([_("Windows")], [
            Series(_("All windows"), [t.windows], "#999999"),
            Series(_("Scheduled"), [t.scheduled], "#3b6fb6"),
            Series(_("Staffed"), [t.staffed], "#5aa469"),
            Series(_("Temporarily closed"), [t.closed], "#6c757d"),
            Series(_("Away on business"), [t.business], "#8e6bbf"),
            Series(_("Unexcused off seat"), [t.unexcused_off_seat], "#d9534f"),
        ], title=_("Windows in each state at least once"))
        allocation = bar_chart(names, [
            Series(_("Customers served"), [w.customers for w in report.windows], "#e0a526"),
            Series(_("Staffed hours"), [hours(w.staffed_s) for w in report.windows], "#5aa469"),
            Series(_("Customers per staffed hour"),
                   [w.customers_per_staffed_hour or 0 for w in report.windows], "#17a2b8"),
        ], title=_("Resource allocation: customers against staffing"))
        return render(request, "windows.html", user, period=period, report=report,
                      charts=[totals, usage, allocation], meta=report.meta)

    return router
