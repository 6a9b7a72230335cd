"""/reports: figures per staff member, window, hall, branch or organisation over a day,
week, month, year or chosen range, with the previous period and last year beside them,
SVG charts, exports, and drill-downs to what each figure is made of.

Every query takes the user's scope (or a branch/hall inside it, ``node``); a figure
links to its rows: satisfaction -> /reports/rated (each row -> /transactions/<unit>/<txn>,
where its clip plays for roles allowed to), off seat -> /reports/offseat, attendance ->
/reports/shifts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.reports.entries.inputs import inputs_for
from hq.reports.entries.rules import current_rules
from hq.reports.exports import FORMATS, media_type
from hq.reports.exports import render as render_export
from hq.reports.exports.tables import KINDS, build
from hq.reports.figures.scoring import Inputs, score
from hq.reports.query import drill, levels
from hq.web.auth import PageError, require
from hq.web.render import render
from hq.web.reports.charts import bar_chart, line_chart
from hq.web.reports.common import Period, conn_for, link, narrowed, nodes, period_of

Viewer = Annotated[User, Depends(require(roles.FIGURES))]
Short = Annotated[str | None, Query(max_length=64)]


def _period(period: str, on: str | None, first: str | None, last: str | None) -> Period:
    return period_of(period, on, first, last, dt.datetime.now(dt.UTC).date())


def build_reports_router(deps: HQDeps) -> APIRouter:
    """GET /reports, /reports/export/{kind}, /reports/rated|offseat|shifts."""
    router = APIRouter(include_in_schema=False)

    @router.get("/reports")
    def reports(request: Request, user: Viewer, level: str = "staff",
                period: Annotated[str, Query(max_length=8)] = "month", on: Short = None,
                day_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                day_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                node: Short = None) -> Response:
        if level not in levels.LEVELS:
            raise PageError(400, "The field %(field)s is not valid: %(why)s", field="level",
                            why=level)
        p = _period(period, on, day_from, day_to)
        conn = conn_for(deps)
        scope = narrowed(conn, user, node)
        cmp = levels.compare(conn, scope, level, p.first, p.last, years=1)
        rep = cmp.current
        prev = {f.key: f for f in cmp.previous.rows}
        ly = {f.key: f for f in cmp.earlier[0].rows}
        scores = {}
        if level == "staff":
            version, rules = current_rules(conn)
            given = inputs_for(conn, p.first, p.last)
            scores = {f.key: score(f, given.get(f.key, Inputs()), rules, version)
                      for f in rep.rows}
        base = {**p.query(), "node": node or ""}
        who = "staff" if level == "staff" else "window" if level == "window" else None

        def drill_link(path: str, key: str) -> str | None:
            if who is None:
                return None
            return link(path, **{who: key, "from": p.first.isoformat(),
                                 "to": p.last.isoformat(), "node": node})

        trend = levels.trend(conn, scope, p.first, p.last)
        charts = [
            bar_chart(request_text(request, user, "Transactions", context="count"),
                      [f.label for f in rep.rows[:40]],
                      [float(f.transactions) for f in rep.rows[:40]],
                      [drill_link("/reports/rated", f.key) for f in rep.rows[:40]],
                      css_id="chart-transactions"),
            bar_chart(request_text(request, user, "Satisfaction %"),
                      [f.label for f in rep.rows[:40]],
                      [f.satisfaction_pct or 0.0 for f in rep.rows[:40]],
                      [drill_link("/reports/rated", f.key) for f in rep.rows[:40]],
                      css_id="chart-satisfaction"),
            line_chart(request_text(request, user, "Transactions over the period"),
                       [name for name, _ in trend],
                       [float(f.transactions) for _, f in trend], css_id="chart-trend"),
        ]
        exports = [(kind, fmt, link(f"/reports/export/{kind}", format=fmt, **base))
                   for kind in KINDS for fmt in FORMATS]
        return render(request, "reports.html", user, rep=rep, prev=prev, ly=ly,
                      scores=scores, level=level, levels=levels.LEVELS, p=p, node=node or "",
                      nodes=nodes(conn, user.scope), charts=charts, exports=exports,
                      drill_link=drill_link, may_enter=user.may(roles.MANAGE_ORG),
                      link=link, base=base)

    @router.get("/reports/export/{kind}")
    def export(kind: str, user: Viewer, fmt: Annotated[str, Query(alias="format")] = "csv",
               period: Annotated[str, Query(max_length=8)] = "month", on: Short = None,
               day_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
               day_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
               node: Short = None) -> Response:
        if kind not in KINDS or fmt not in FORMATS:
            raise PageError(404, "There is no such page.")
        p = _period(period, on, day_from, day_to)
        conn = conn_for(deps)
        table = build(conn, kind, narrowed(conn, user, node), p.first, p.last)
        body = render_export(table, fmt, user.language)
        name = f"{kind}-{p.first.isoformat()}-{p.last.isoformat()}.{fmt}"
        return Response(body, media_type=media_type(fmt),
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def _drill_args(day_from: str | None, day_to: str | None) -> Period:
        return _period("custom", None, day_from, day_to)

    @router.get("/reports/rated")
    def rated(request: Request, user: Viewer, staff: Short = None, window: Short = None,
              day_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
              day_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
              node: Short = None) -> Response:
        p = _drill_args(day_from, day_to)
        conn = conn_for(deps)
        rows = drill.rated(conn, narrowed(conn, user, node), p.first, p.last,
                           staff_no=staff, window_id=window)
        return render(request, "reports_rated.html", user, rows=rows, p=p, staff=staff,
                      window=window, may_view=user.may(roles.VIEW))

    @router.get("/reports/offseat")
    def offseat(request: Request, user: Viewer, staff: Short = None, window: Short = None,
                day_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
                day_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
                node: Short = None) -> Response:
        p = _drill_args(day_from, day_to)
        conn = conn_for(deps)
        rows = drill.off_seat(conn, narrowed(conn, user, node), p.first, p.last,
                              staff_no=staff, window_id=window)
        return render(request, "reports_offseat.html", user, rows=rows, p=p, staff=staff,
                      window=window, total_s=sum(r.duration_s for r in rows))

    @router.get("/reports/shifts")
    def shifts(request: Request, user: Viewer, staff: Short = None, window: Short = None,
               day_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
               day_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
               node: Short = None) -> Response:
        p = _drill_args(day_from, day_to)
        conn = conn_for(deps)
        rows = drill.shifts(conn, narrowed(conn, user, node), p.first, p.last,
                            staff_no=staff, window_id=window)
        return render(request, "reports_shifts.html", user, rows=rows, p=p, staff=staff,
                      window=window)

    return router


def request_text(request: Request, user: User, message: str,
                 context: str | None = None) -> str:
    """``message`` in the user's language, as meant in ``context`` (chart titles are built
    in Python; a column's chart says what the column's header says)."""
    from hq.locale import pgettext

    return pgettext(user.language, context, message)
