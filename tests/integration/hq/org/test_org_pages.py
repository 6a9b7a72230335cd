"""/org, /staff and /schedules over real HTTPS with a logged-in session: authoring forms,
bad values shown with nothing written, imports with the row errors shown, the templates,
and each role's reach."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator

import openpyxl
import pytest
import requests

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.org_schema import window_of_unit
from hq.storage.scope import Scope
from tests.helpers.hq.users import ev
from tests.helpers.hq.web import browser, csrf, page_session, post_form
from tests.servers.postgres_fixtures import BACKENDS, backend_for

PW = "a long enough password"


@pytest.fixture(scope="module", params=BACKENDS)
def hq(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
       ) -> Iterator[EmbeddedHQ]:
    root = tmp_path_factory.mktemp("org-pages")
    backend = backend_for(request)
    backend.configure(root / "data")
    with running_hq(root) as server:
        users = server.deps.user_store()
        users.create_user("root", PW, "admin", language="en")
        users.create_user("bm2", PW, "branch_manager", scope=Scope.parse("branch:B2"),
                          language="en")
        users.create_user("vic", PW, "viewer", scope=Scope.everything())
        users.create_user("zhang", PW, "branch_manager", scope=Scope.parse("branch:B1"))
        yield server
    backend.close()


@pytest.fixture(scope="module")
def admin(hq: EmbeddedHQ) -> requests.Session:
    s = page_session(hq, "root", PW)
    for kind, data in [("branch", {"branch_id": "B1", "name": "Main"}),
                       ("branch", {"branch_id": "B2", "name": "East", "tz": "Asia/Urumqi"}),
                       ("hall", {"hall_id": "H1", "branch_id": "B1", "name": "Hall 1"}),
                       ("hall", {"hall_id": "H2", "branch_id": "B2", "name": "Hall 2"}),
                       ("window", {"window_id": "W1", "hall_id": "H1", "name": "Window 1"}),
                       ("window", {"window_id": "W2", "hall_id": "H2", "name": "Window 2"})]:
        r = post_form(s, hq, f"/org/save/{kind}", data, get(s, hq, "/org"))
        assert r.status_code == 303, r.text[:400]
    return s


def get(s: requests.Session, hq: EmbeddedHQ, path: str) -> str:
    r = s.get(hq.url + path, timeout=10)
    assert r.status_code == 200, (path, r.status_code)
    return r.text


def test_tree_forms_and_a_bad_value_shown_with_nothing_written(admin: requests.Session,
                                                               hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/org")
    assert 'data-window="W1"' in page and 'data-window="W2"' in page
    r = post_form(admin, hq, "/org/save/branch",
                  {"branch_id": "B3", "name": "Bad", "tz": "Asia/Beijing"}, page)
    assert r.status_code == 400
    assert "tz: must be an IANA time zone such as Asia/Shanghai, not &#39;Asia/Beijing&#39;" \
        in r.text
    assert 'data-branch="B3"' not in get(admin, hq, "/org")
    r = post_form(admin, hq, "/org/delete/branch/B1", {}, page)
    assert r.status_code == 409 and "still in use" in r.text
    r = post_form(admin, hq, "/org/save/zone", {"window_id": "W1", "name": "seat", "x0": "0",
                                                "y0": "0", "x1": "0.5", "y1": "1"}, page)
    assert r.status_code == 303
    r = post_form(admin, hq, "/org/save/zone", {"window_id": "W1", "name": "customer",
                                                "x0": "0.5", "y0": "0", "x1": "0.52",
                                                "y1": "1"}, page)
    assert r.status_code == 400 and "each side at least 0.05" in r.text


def test_binding_a_unit_shows_its_code_once(admin: requests.Session, hq: EmbeddedHQ) -> None:
    r = post_form(admin, hq, "/org/enroll", {"unit_id": "unit-p1", "window_id": "W2"},
                  get(admin, hq, "/org"))
    assert r.status_code == 200 and 'id="enroll-code"' in r.text
    with hq.deps.org.reading() as conn:
        assert window_of_unit(conn, "unit-p1") == "W2"
    page = get(admin, hq, "/org")
    assert 'id="enroll-code"' not in page
    assert 'data-unit="unit-p1"' in page and "silent" in page  # bound, never heard from


def test_staff_import_with_one_bad_row_shows_it_and_imports_nothing(
        admin: requests.Session, hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/staff")
    tpl = admin.get(hq.url + "/org/import/staff/template?format=xlsx", timeout=10)
    assert tpl.status_code == 200 and tpl.headers["content-disposition"].endswith(
        'staff-template.xlsx"')
    wb = openpyxl.load_workbook(io.BytesIO(tpl.content))
    wb["data"].append(["1001", "王芳", "04A1B2C3", "B1", "", "true"])
    wb["data"].append(["1002", "Li", "04A1B2C4", "B9", "", "true"])
    out = io.BytesIO()
    wb.save(out)
    r = admin.post(hq.url + "/org/import/staff", data={"csrf_token": csrf(page)},
                   files={"file": ("roster.xlsx", out.getvalue())}, timeout=30)
    assert r.status_code == 400 and 'id="row-errors"' in r.text
    assert "Nothing was imported from roster.xlsx" in r.text
    assert "<td class=\"num\">3</td><td>home_branch_id: no branch &#39;B9&#39;" in r.text
    assert 'data-staff="1001"' not in get(admin, hq, "/staff")
    good = b"staff_no,name,badge_uid,home_branch_id\n1001,Wang,04A1B2C3,B1\n"
    r = admin.post(hq.url + "/org/import/staff", data={"csrf_token": csrf(page)},
                   files={"file": ("roster.csv", good)}, allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert 'data-staff="1001"' in get(admin, hq, "/staff")


def test_weekly_shift_form_makes_dated_shifts_shown_in_branch_time(
        admin: requests.Session, hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/schedules")
    post_form(admin, hq, "/org/save/staff", {"staff_no": "2001", "name": "East",
                                             "home_branch_id": "B2"}, page)
    r = admin.post(hq.url + "/org/save/template", data=[
        ("csrf_token", csrf(page)), ("window_id", "W2"), ("staff_no", "2001"),
        ("days", "mon"), ("days", "tue"), ("days", "wed"), ("days", "thu"), ("days", "fri"),
        ("days", "sat"), ("days", "sun"), ("start", "09:00"), ("end", "17:00"),
        ("valid_from", "2026-01-01"), ("valid_to", "2026-12-31")],
        allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text[:500]
    assert 'data-template="W2.2001.motuwethfrsasu.0900"' in get(admin, hq, "/schedules")
    with hq.deps.org.reading() as conn:
        n = conn.execute("SELECT COUNT(*) FROM org_shifts WHERE window_id = 'W2'").fetchone()[0]
    assert n == 365
    bad = post_form(admin, hq, "/org/save/shift", {"window_id": "W2", "staff_no": "2001",
                                                   "date": "2026-12-08", "start": "10:00",
                                                   "end": "09:00"}, page)
    assert bad.status_code == 400 and "end 09:00 must be after start 10:00" in bad.text


def test_roles_reach(hq: EmbeddedHQ, admin: requests.Session) -> None:
    anon = browser(hq).get(hq.url + "/org", allow_redirects=False, timeout=10)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
    vic = page_session(hq, "vic", PW)
    assert vic.get(hq.url + "/staff", timeout=10).status_code == 403
    bm2 = page_session(hq, "bm2", PW)
    page = get(bm2, hq, "/org")
    assert 'data-branch="B2"' in page and 'data-branch="B1"' not in page
    assert 'id="add-branch"' not in page
    r = post_form(bm2, hq, "/org/save/staff", {"staff_no": "2002", "name": "x",
                                               "home_branch_id": "B1"}, get(bm2, hq, "/staff"))
    assert r.status_code == 403 and "must be a branch in your scope" in r.text
    r = post_form(bm2, hq, "/org/save/window", {"window_id": "W7", "hall_id": "H2",
                                                "name": "x"}, page)
    assert r.status_code == 403
    no_csrf = bm2.post(hq.url + "/org/save/staff", data={"staff_no": "2003", "name": "y",
                                                         "home_branch_id": "B2"}, timeout=10)
    assert no_csrf.status_code == 403


def test_pages_speak_chinese_by_default(hq: EmbeddedHQ, admin: requests.Session) -> None:
    page = get(page_session(hq, "zhang", PW), hq, "/schedules")
    assert "每周班次" in page and "导入排班" in page and "周一" in page


def test_org_page_shows_the_version_a_unit_runs_and_a_refusal(admin: requests.Session,
                                                               hq: EmbeddedHQ) -> None:
    post_form(admin, hq, "/org/enroll", {"unit_id": "unit-p2", "window_id": "W1"},
              get(admin, hq, "/org"))
    post_form(admin, hq, "/org/save/rules", {"level": "org", "off_seat_l1_s": "100"},
              get(admin, hq, "/org"))
    body = hq.deps.org.served_config("unit-p2")
    assert body is not None
    version = json.loads(body)["version"]
    etag = f'"{hashlib.sha256(body).hexdigest()}"'
    hq.deps.events.ingest("unit-p2", [ev("config_applied", "unit-p2", 1, "c1", etag=etag,
                                         version=version)])
    page = get(admin, hq, "/org")
    assert f"runs v{version}</span>" in page
    post_form(admin, hq, "/org/save/rules", {"level": "org", "off_seat_l1_s": "110"}, page)
    newer = hq.deps.org.served_config("unit-p2")
    assert newer is not None
    hq.deps.events.ingest("unit-p2", [ev(
        "config_refused", "unit-p2", 2, "c1", etag=f'"{hashlib.sha256(newer).hexdigest()}"',
        problems=["rules: not today"])])
    assert f"refused v{int(version) + 1}: rules: not today" in get(admin, hq, "/org")
