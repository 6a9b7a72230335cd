"""/org, /staff and /schedules: authoring the organisation in pages.

Forms post to /org/save/{kind} and /org/delete/{kind}/{id}; files to /org/import/{kind}.
A bad value or a bad row re-shows the page with 400 (403 outside the author's scope) and
every problem, and nothing is written. Every change is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from hq.accounts import roles
from hq.accounts.logins import printable
from hq.accounts.users import User
from hq.api.deps import HQDeps
from hq.org.importing.files import ImportRefused, RowError, import_file, template_bytes
from hq.org.records.errors import OrgError, OrgForbidden, OrgInvalid, OrgNotFound
from hq.pki.enrollment import EnrollmentError, issue_for_window
from hq.storage import StorageError
from hq.web.admin.org_views import org_page, schedules_page, staff_page
from hq.web.auth import PageError, client_address, require, web
from hq.web.render import CSRF_FIELD, render

log = logging.getLogger(__name__)

Author = Annotated[User, Depends(require(roles.MANAGE_ORG))]
PAGE_OF = {"branch": "/org", "hall": "/org", "window": "/org", "rules": "/org",
           "zone": "/org", "settings": "/org", "staff": "/staff", "shift": "/schedules",
           "template": "/schedules", "leave": "/schedules", "shifts": "/schedules",
           "period": "/schedules", "periods": "/schedules"}
DELETABLE = frozenset({"branch", "hall", "window", "shift", "template", "leave", "period"})
IMPORTS = frozenset({"staff", "shifts", "leave", "periods"})
MAX_UPLOAD = 8 * 1024 * 1024
CODE_TTL = dt.timedelta(hours=72)
Kind = Literal["branch", "hall", "window", "rules", "zone", "settings", "staff", "shift",
               "template", "leave", "period"]


def form_record(form: Any) -> dict[str, Any]:
    """A form's fields as a record: the CSRF token dropped, empty fields left out (their
    defaults apply), repeated ``days`` boxes joined as ``mon,tue``."""
    out: dict[str, Any] = {}
    for key in form:
        if key == CSRF_FIELD:
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if key == "days":
            out[key] = ",".join(values)
        elif values and values[-1].strip():
            out[key] = values[-1]
    return out


def build_org_pages_router(deps: HQDeps) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def audit(request: Request, user: User, action: str, kind: str, ident: str,
              detail: str = "") -> None:
        try:
            deps.audit.append(actor=user.username, role=user.role, action=action,
                              object_type=kind, object_id=printable(ident, 128),
                              client=client_address(request), detail=printable(detail, 512))
        except (StorageError, sqlite3.Error) as exc:
            log.error("audit log write failed (%s) for %s of %s %s", exc, action, kind, ident)

    def page(request: Request, user: User, path: str, *, status: int = 200,
             error: str | None = None, problems: list[str] | None = None,
             rows: list[RowError] | None = None, notice: str | None = None,
             values: dict[str, str] | None = None, code: dict[str, str] | None = None,
             edit: str | None = None) -> Response:
        now = web(request).clock()
        with deps.org.reading() as conn:
            if path == "/org":
                data, template = org_page(conn, user.scope, now), "org.html"
            elif path == "/staff":
                data, template = staff_page(conn, user.scope, edit), "org_staff.html"
            else:
                data, template = schedules_page(conn, user.scope, now), "org_schedules.html"
        return render(request, template, user, status=status, error=error,
                      problems=problems or [], rows=rows or [], notice=notice,
                      values=values or {}, code=code, whole=user.scope.level == "all", **data)

    def done(path: str, kind: str, ident: str, what: str = "saved") -> Response:
        return RedirectResponse(f"{path}?done={what}&kind={quote(kind)}&id={quote(ident)}",
                                status_code=303)

    def notice_of(done_: str | None, kind: str | None, ident: str | None
                  ) -> tuple[str | None, dict[str, str]]:
        texts = {"saved": "Saved %(kind)s %(id)s.", "deleted": "Deleted %(kind)s %(id)s.",
                 "imported": "Imported %(id)s rows of %(kind)s."}
        text = texts.get(done_ or "")
        return text, ({"kind": kind or "", "id": ident or ""} if text else {})

    def shower(path: str) -> Any:
        def show(request: Request, user: Author, done: str | None = None,
                 kind: str | None = None, id: str | None = None,
                 edit: Annotated[str | None, Query(max_length=32)] = None) -> Response:
            notice, values = notice_of(done, kind, id)
            return page(request, user, path, notice=notice, values=values, edit=edit)
        return show

    for path in ("/org", "/staff", "/schedules"):
        router.add_api_route(path, shower(path), methods=["GET"],
                             name=f"page{path.replace('/', '_')}")

    def refused(request: Request, user: User, path: str, exc: OrgError) -> Response:
        if isinstance(exc, OrgInvalid):
            return page(request, user, path, status=400, error="Not saved:",
                        problems=exc.problems)
        if isinstance(exc, OrgForbidden):
            return page(request, user, path, status=403, error="Not saved:",
                        problems=[str(exc)])
        if isinstance(exc, OrgNotFound):
            return page(request, user, path, status=404, error="Not found:",
                        problems=[str(exc)])
        return page(request, user, path, status=409, error="Not saved:", problems=[str(exc)])

    @router.post("/org/save/{kind}")
    async def save(request: Request, kind: Kind, user: Author) -> Response:
        record = form_record(await request.form())
        path = PAGE_OF[kind]
        try:
            ident, made = deps.org.author(kind, record, web(request).clock(), user.scope)
        except OrgError as exc:
            return refused(request, user, path, exc)
        audit(request, user, "org_save", kind, ident,
              f"new config versions: {', '.join(f'{v.window_id} v{v.version}' for v in made)}")
        return done(path, kind, ident)

    @router.post("/org/delete/{kind}/{ident}")
    def delete(request: Request, kind: str, ident: str, user: Author) -> Response:
        if kind not in DELETABLE:
            raise PageError(404, "There is no such page.")
        path = PAGE_OF[kind]
        try:
            deps.org.delete(kind, ident, web(request).clock(), user.scope)
        except OrgError as exc:
            return refused(request, user, path, exc)
        audit(request, user, "org_delete", kind, ident)
        return done(path, kind, ident, "deleted")

    @router.post("/org/import/{kind}")
    async def import_(request: Request, kind: str, user: Author) -> Response:
        if kind not in IMPORTS:
            raise PageError(404, "There is no such page.")
        path = PAGE_OF[kind]
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return page(request, user, path, status=400, error="Choose a file to import.")
        data = await upload.read(MAX_UPLOAD + 1)
        try:
            result = import_file(deps.org, kind, data, upload.filename, web(request).clock(),
                                 user.scope)
        except ImportRefused as exc:
            return page(request, user, path, status=400, rows=exc.errors,
                        error="Nothing was imported from %(file)s:",
                        values={"file": upload.filename})
        audit(request, user, "org_import", kind, upload.filename, f"rows={result.rows}")
        return done(path, kind, str(result.rows), "imported")

    @router.get("/org/import/{kind}/template")
    def template(kind: str, user: Author, format: str = "xlsx") -> Response:
        if kind not in IMPORTS or format not in ("csv", "xlsx"):
            raise PageError(404, "There is no such page.")
        media = ("text/csv; charset=utf-8" if format == "csv" else
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return Response(template_bytes(kind, format), media_type=media,  # type: ignore[arg-type]
                        headers={"Content-Disposition":
                                 f'attachment; filename="{kind}-template.{format}"'})

    @router.post("/org/enroll")
    async def enroll_code(request: Request, user: Author) -> Response:
        form = form_record(await request.form())
        if user.scope.level != "all":
            return page(request, user, "/org", status=403, error="Not saved:",
                        problems=["only the whole organisation's scope may bind units"])
        unit, window = str(form.get("unit_id", "")), str(form.get("window_id", ""))
        try:
            code = issue_for_window(deps.codes, deps.org, unit, window, CODE_TTL,
                                    now=web(request).clock())
        except EnrollmentError as exc:
            return page(request, user, "/org", status=400, error="Not saved:",
                        problems=[str(exc)])
        audit(request, user, "enroll_code", "unit", unit, f"window={window}")
        return page(request, user, "/org", code={"unit": unit, "window": window, "code": code})

    return router

