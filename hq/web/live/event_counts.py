"""``/events``: counts of events over a chosen period as bar charts (seed function 22):
off-seat episodes by level, alerts by kind and level, ratings by key, unrated prompts
and suspect presses, from :func:`hq.reports.query.usage.event_counts`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.web.auth import require, web
from hq.web.i18n import gettext_for, pgettext_for
from hq.web.live.db import conn_for
from hq.web.live.windows import parse_period
from hq.web.live.windows_bars import Series, bar_chart
from hq.web.render import render

Viewer = Annotated[User, Depends(require(roles.FIGURES))]


def build_event_counts_router(deps: HQDeps) -> APIRouter:
    """GET /events."""
    from hq.reports.query.usage import event_counts

    router = APIRouter(include_in_schema=False)

    @router.get("/events")
    def events_page(request: Request, user: Viewer) -> Response:
        ctx = web(request)
        now = ctx.clock()
        period = parse_period(dict(request.query_params.items()), now.date())
        start, end = period.utc_bounds()
        c = event_counts(conn_for(deps), user.scope, start, end, now=now)
        _ = gettext_for(user.language)
        pgettext = pgettext_for(user.language)
        levels = sorted(c.off_seat_by_level) or [0]
        charts = [
            bar_chart([_("level %(n)s", n=lv) for lv in levels],
                      [Series(pgettext("count", "Off-seat episodes"),
                              [c.off_seat_by_level.get(lv, 0) for lv in levels], "#e0a526")],
                      title=_("Off-seat episodes by highest level")),
            bar_chart([str(k) for k in range(1, 6)] + [_("unrated"), _("suspect presses")],
                      [Series(_("Count"), [c.ratings_by_key.get(k, 0) for k in range(1, 6)]
                              + [c.unrated, c.suspect], "#3b6fb6")],
                      title=_("Ratings by key, unrated prompts, suspect presses")),
        ]
        kinds = sorted(c.alerts)
        alert_levels = sorted({lv for by in c.alerts.values() for lv in by})
        if kinds:
            charts.append(bar_chart(
                [_(k) for k in kinds],
                [Series(_("level %(n)s", n=lv), [c.alerts[k].get(lv, 0) for k in kinds])
                 for lv in alert_levels], title=_("Alerts by kind and level")))
        return render(request, "events.html", user, period=period, counts=c, charts=charts,
                      meta=c.meta)

    return router
