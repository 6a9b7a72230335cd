"""/reports pages over real HTTPS on the hand-worked fixture (tests/helpers/hq/reports_fixture.py):
figures, two-click drill-downs, exports equal to the page, score inputs and rules."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from openpyxl import load_workbook
from pypdf import PdfReader

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq import reports_fixture as fx
from tests.helpers.hq.web import page_session, post_form
from tests.servers.postgres_fixtures import BACKENDS, backend_for

PW = "a long enough password"
Q = "period=custom&from=2026-03-02&to=2026-03-03"


@dataclass
class World:
    hq: EmbeddedHQ
    s: dict[str, requests.Session]


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    root = tmp_path_factory.mktemp("reports")
    backend = backend_for(request)
    fx.build(backend.configure(root / "data"))
    with running_hq(root) as hq:
        users = hq.deps.user_store()
        for name, role, scope in (("admin", "admin", "all"),
                                  ("mgr", "branch_manager", "branch:B1"),
                                  ("sup", "hall_supervisor", "hall:H1"),
                                  ("view2", "viewer", "branch:B2")):
            users.create_user(name, PW, role, scope=Scope.parse(scope), language="en")
        yield World(hq, {n: page_session(hq, n, PW) for n in ("admin", "mgr", "sup", "view2")})
    backend.close()


def _get(w: World, who: str, path: str, status: int = 200) -> str:
    r = w.s[who].get(w.hq.url + path, timeout=30)
    assert r.status_code == status, (r.status_code, r.text[:400])
    return r.text


def _row(html: str, key: str) -> str:
    m = re.search(rf'<tr data-key="{key}">(.*?)</tr>', html, re.S)
    assert m, f"no row {key}"
    return m.group(1)


def test_staff_figures_and_two_click_drill_down(world: World) -> None:
    html = _get(world, "mgr", f"/reports?level=staff&{Q}")
    row = _row(html, "S1")
    assert "张伟" in row and ">50.0<" in row and ">123.8<" in row and ">71.3<" in row
    assert "knowledge" in row and 'id="chart-transactions"' in html and "<svg" in html
    assert "Asia/Shanghai" in html and 'id="incomplete"' not in html
    rated = re.search(r'href="(/reports/rated\?[^"]+)"', row)
    assert rated
    listing = _get(world, "mgr", rated.group(1).replace("&amp;", "&"))
    links = re.findall(r'href="(/transactions/[^"]+)"', listing)
    assert links == ["/transactions/U1/T1", "/transactions/U1/T2", "/transactions/U1/T3",
                     "/transactions/U2/T7"]
    off = re.search(r'class="n offseat"><a href="([^"]+)"', row)
    assert off
    episodes = _get(world, "mgr", off.group(1).replace("&amp;", "&"))
    assert episodes.count("<tr><td>") == 2 and "unexcused" in episodes and "business" in episodes


def test_shifts_drill_down_names_the_absence(world: World) -> None:
    html = _get(world, "mgr", "/reports/shifts?staff=S3&from=2026-03-02&to=2026-03-03")
    assert re.search(r"<td>SH4</td>.*?<td>present</td>", html, re.S)
    assert re.search(r"<td>SH7</td>.*?<td>absent</td>", html, re.S)


def test_scope_and_narrowing(world: World) -> None:
    html = _get(world, "view2", f"/reports?level=staff&{Q}")
    assert 'data-key="S4"' in html and 'data-key="S1"' not in html
    _get(world, "view2", f"/reports?{Q}&node=B1", 404)
    assert "/transactions/" not in _get(
        world, "view2", "/reports/rated?staff=S1&from=2026-03-02&to=2026-03-03")
    assert "U1/T1" not in _get(world, "view2", "/reports/rated?from=2026-03-02&to=2026-03-03")
    sup = _get(world, "sup", f"/reports?level=window&{Q}&node=B1")  # narrowed to H1 itself
    assert 'data-key="W1"' in sup and 'data-key="W3"' not in sup
    _get(world, "mgr", f"/reports?level=nonsense&{Q}", 400)
    _get(world, "mgr", "/reports?period=custom&from=2026-03-05&to=2026-03-01", 400)


def test_admin_sees_incompleteness(world: World) -> None:
    html = _get(world, "admin", f"/reports?level=window&{Q}")
    flags = re.search(r'id="incomplete">(.*?)</div>', html, re.S)
    assert flags and "W3" in flags.group(1) and "W4" in flags.group(1)


def test_exports_from_the_page_equal_its_figures(world: World) -> None:
    html = _get(world, "mgr", f"/reports?level=staff&{Q}")
    found = re.findall(r'href="(/reports/export/(\w+)\?format=(\w+)[^"]*)"', html)
    urls = {(kind, fmt): u.replace("&amp;", "&") for u, kind, fmt in found}
    assert len(urls) == 15
    r = world.s["mgr"].get(world.hq.url + urls[("staff", "xlsx")], timeout=30)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    s1 = [c.value for c in ws[2]][:11]
    assert s1 == ["S1", "张伟", "城东支行", 4, 123.8, 4, 50.0, 2, 6.2, 100.0, 71.3]
    r = world.s["mgr"].get(world.hq.url + urls[("staff", "csv")], timeout=30)
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert rows[1][:4] == ["S1", "张伟", "城东支行", "4"]
    r = world.s["mgr"].get(world.hq.url + urls[("attendance", "pdf")], timeout=30)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "Attendance report" in text and "王芳" in text and "50" in text.splitlines()


def test_inputs_form_import_and_score(world: World) -> None:
    page = _get(world, "mgr", "/reports/inputs?month=2026-03")
    r = post_form(world.s["mgr"], world.hq, "/reports/inputs",
                  {"month": "2026-03", "knowledge_S1": "101"}, page)
    assert r.status_code == 400 and "knowledge: 101 must be within 0..100" in r.text
    r = post_form(world.s["mgr"], world.hq, "/reports/inputs",
                  {"month": "2026-03", "knowledge_S1": "88", "teamwork_S1": "92"}, page)
    assert r.status_code == 200 and 'id="input-saved"' in r.text
    # (40*50 + 30*99.6 + 20*88 + 10*92) / 100 = 76.7 -> fail, nothing missing
    row = _row(_get(world, "mgr", f"/reports?level=staff&{Q}"), "S1")
    assert ">76.7<" in row and "knowledge" not in row
    r = world.s["mgr"].post(world.hq.url + "/reports/inputs/import",
                            files={"file": ("x.csv", b"staff_no,month,teamwork\nS4,2026-03,50\n")},
                            data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                                          page).group(1)},  # type: ignore[union-attr]
                            timeout=30)
    assert r.status_code == 403  # S4 is in branch B2


def test_rules_only_admin_edits(world: World) -> None:
    page = _get(world, "mgr", "/reports/rules")
    assert post_form(world.s["mgr"], world.hq, "/reports/rules", {"rules": "{}"},
                     page).status_code == 403
    page = _get(world, "admin", "/reports/rules")
    r = post_form(world.s["admin"], world.hq, "/reports/rules",
                  {"rules": '{"weights": {"satisfaction": 90}}'}, page)
    assert r.status_code == 400 and "add up to 100" in r.text
    r = post_form(world.s["admin"], world.hq, "/reports/rules",
                  {"rules": '{"bands": [{"grade": "ok", "min_score": 50}, '
                            '{"grade": "not ok", "min_score": 0}]}'}, page)
    assert r.status_code == 303 and r.headers["location"] == "/reports/rules"
    assert "Version in force: 1" in _get(world, "admin", "/reports/rules")
    assert ">ok<" in _row(_get(world, "admin", f"/reports?level=staff&{Q}"), "S3")
