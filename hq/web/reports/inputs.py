"""/reports/inputs: managers enter knowledge, teamwork and mystery-shopper results per
staff member and month (form or CSV/XLSX upload); /reports/rules: an admin edits the
scoring rules, each save a new version. Bad values: 400 naming the row and field,
nothing written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from hq.accounts import roles
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.reports.entries import inputs
from hq.reports.entries import rules as score_rules
from hq.reports.query.rollups import windows
from hq.storage.scope import Scope
from hq.web.auth import PageError, require
from hq.web.render import render
from hq.web.reports.common import conn_for

Manager = Annotated[User, Depends(require(roles.MANAGE_ORG))]
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MAX_UPLOAD = 2 * 1024 * 1024


def staff_in_scope(conn: sqlite3.Connection, scope: Scope) -> list[tuple[str, str]]:
    """(staff_no, name) of staff whose home branch has a window in ``scope``."""
    branches = sorted({w.branch_id for w in windows(conn, scope)})
    if not branches:
        return []
    marks = ", ".join("?" * len(branches))
    return [(r[0], r[1]) for r in conn.execute(
        f"SELECT staff_no, name FROM org_staff WHERE home_branch_id IN ({marks}) "
        "ORDER BY staff_no", branches)]


def _month(text: str | None) -> str:
    if not text:
        today = dt.datetime.now(dt.UTC).date()
        return f"{today.year}-{today.month:02d}"
    if not _MONTH.fullmatch(text):
        raise PageError(400, "The field %(field)s is not valid: %(why)s", field="month",
                        why="YYYY-MM")
    return text


def _stored(conn: sqlite3.Connection, month: str) -> dict[str, tuple[float | None, ...]]:
    score_rules.current_rules(conn)  # creates the tables on a fresh HQ
    return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(
        "SELECT staff_no, knowledge, teamwork, mystery FROM rpt_score_inputs WHERE month = ?",
        [month])}


def _outside(conn: sqlite3.Connection, user: User, entries: list[inputs.Entry]) -> None:
    mine = {no for no, _ in staff_in_scope(conn, user.scope)}
    bad = [e.staff_no for e in entries if e.staff_no not in mine]
    if bad:
        raise PageError(403, "Staff %(id)s is outside your scope.", id=", ".join(bad))


def build_reports_inputs_router(deps: HQDeps) -> APIRouter:
    """GET/POST /reports/inputs, POST /reports/inputs/import, GET/POST /reports/rules."""
    router = APIRouter(include_in_schema=False)

    def page(request: Request, user: User, month: str, errors: list[str] | None = None,
             saved: int | None = None, status: int = 200) -> Response:
        conn = conn_for(deps)
        return render(request, "reports_inputs.html", user, month=month,
                      staff=staff_in_scope(conn, user.scope), stored=_stored(conn, month),
                      errors=errors or [], saved=saved, status=status)

    @router.get("/reports/inputs")
    def show(request: Request, user: Manager,
             month: Annotated[str | None, Query(max_length=7)] = None) -> Response:
        return page(request, user, _month(month))

    @router.post("/reports/inputs")
    async def save(request: Request, user: Manager) -> Response:
        form = await request.form()
        month = _month(str(form.get("month") or ""))
        conn = conn_for(deps)
        rows: list[tuple[int, dict[str, object]]] = []
        for n, (no, _) in enumerate(staff_in_scope(conn, user.scope), start=2):
            rows.append((n, {"staff_no": no, "month": month,
                             "knowledge": form.get(f"knowledge_{no}"),
                             "teamwork": form.get(f"teamwork_{no}"),
                             "mystery_shopper": form.get(f"mystery_{no}")}))
        try:
            entries = inputs.check(conn, rows)
        except inputs.InputError as exc:
            return page(request, user, month, [str(e) for e in exc.errors], status=400)
        entries = [e for e in entries if (e.knowledge, e.teamwork, e.mystery) != (None,) * 3]
        saved = inputs.set_inputs(conn, entries, user.username)
        return page(request, user, month, saved=saved)

    @router.post("/reports/inputs/import")
    async def upload(request: Request, user: Manager, file: UploadFile) -> Response:
        content = await file.read(MAX_UPLOAD + 1)
        month = _month(None)
        if len(content) > MAX_UPLOAD:
            return page(request, user, month, ["file: larger than 2 MiB"], status=400)
        conn = conn_for(deps)
        try:
            entries = inputs.check(conn, inputs.parse_file(file.filename or "in.csv", content))
        except inputs.InputError as exc:
            return page(request, user, month, [str(e) for e in exc.errors], status=400)
        _outside(conn, user, entries)
        saved = inputs.set_inputs(conn, entries, user.username)
        return page(request, user, entries[0].month if entries else month, saved=saved)

    @router.get("/reports/inputs/template.csv")
    def template(user: Manager) -> Response:
        return Response(inputs.template_csv().encode("utf-8-sig"), media_type="text/csv",
                        headers={"Content-Disposition":
                                 'attachment; filename="score-inputs.csv"'})

    def rules_page(request: Request, user: User, text: str | None = None,
                   error: str | None = None, status: int = 200) -> Response:
        conn = conn_for(deps)
        version, rules = score_rules.current_rules(conn)
        return render(request, "reports_rules.html", user, version=version,
                      text=text or json.dumps(rules.model_dump(), indent=2),
                      history=score_rules.rules_history(conn), error=error,
                      may_edit=user.role == "admin", status=status)

    @router.get("/reports/rules")
    def rules_show(request: Request, user: Manager) -> Response:
        return rules_page(request, user)

    @router.post("/reports/rules")
    async def rules_save(request: Request, user: Manager) -> Response:
        if user.role != "admin":
            raise PageError(403, "Only an admin may change the scoring rules.")
        text = str((await request.form()).get("rules") or "")
        try:
            data = json.loads(text)
            score_rules.save_rules(conn_for(deps), data, user.username)
        except json.JSONDecodeError as exc:
            return rules_page(request, user, text, f"JSON: {exc}", status=400)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            return rules_page(request, user, text, f"{where}: {first.get('msg')}", status=400)
        return RedirectResponse("/reports/rules", status_code=303)

    return router
