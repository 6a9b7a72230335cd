"""Planned closed/away periods and counter zones on HQ's pages over real HTTPS with
logged-in sessions: the /schedules form (weekly and dated), a bad value shown with nothing
written, the CSRF token required, each branch manager's reach, the import with its bad
rows named, the Chinese page, and a counter zone refused naming the zone and the rule."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq.web import csrf, page_session, post_form

PW = "a long enough password"


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHQ]:
    with running_hq(tmp_path_factory.mktemp("org-periods")) as server:
        users = server.deps.user_store()
        users.create_user("root", PW, "admin", language="en")
        users.create_user("bm2", PW, "branch_manager", scope=Scope.parse("branch:B2"),
                          language="en")
        users.create_user("zhang", PW, "branch_manager", scope=Scope.parse("branch:B1"))
        org = server.deps.org
        for kind, data in [("branch", {"branch_id": "B1", "name": "Main"}),
                           ("branch", {"branch_id": "B2", "name": "East"}),
                           ("hall", {"hall_id": "H1", "branch_id": "B1", "name": "Hall 1"}),
                           ("hall", {"hall_id": "H2", "branch_id": "B2", "name": "Hall 2"}),
                           ("window", {"window_id": "W1", "hall_id": "H1", "name": "W1"}),
                           ("window", {"window_id": "W2", "hall_id": "H2", "name": "W2"})]:
            org.author(kind, data)
        org.bind("u1", "W1")
        yield server


@pytest.fixture(scope="module")
def admin(hq: EmbeddedHQ) -> requests.Session:
    return page_session(hq, "root", PW)


def get(s: requests.Session, hq: EmbeddedHQ, path: str) -> str:
    r = s.get(hq.url + path, timeout=10)
    assert r.status_code == 200, (path, r.status_code)
    return r.text


def stored(hq: EmbeddedHQ) -> list[str]:
    with hq.deps.org.reading() as conn:
        return [r[0] for r in conn.execute(
            "SELECT period_id FROM org_window_periods ORDER BY period_id")]


def test_weekly_and_dated_periods_from_the_form_reach_the_windows_config(
        admin: requests.Session, hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/schedules")
    assert 'id="period-form"' in page and "Planned closed and away periods" in page
    r = admin.post(hq.url + "/org/save/period", data=[
        ("csrf_token", csrf(page)), ("window_id", "W1"), ("state", "closed"),
        ("days", "mon"), ("days", "fri"), ("start", "12:00"), ("end", "12:30"),
        ("note", "lunch")], allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text[:500]
    r = post_form(admin, hq, "/org/save/period", {
        "window_id": "W1", "state": "away", "date": "2026-12-09", "start": "09:00",
        "end": "11:00"}, page)
    assert r.status_code == 303, r.text[:500]
    page = get(admin, hq, "/schedules")
    assert 'data-period="W1.closed.mofr.1200"' in page
    assert 'data-period="W1.away.2026-12-09.0900"' in page and "Away on business" in page
    body = hq.deps.org.served_config("u1")
    assert body is not None
    assert json.loads(body)["schedule"]["states"] == [
        {"state": "closed", "days": ["mon", "fri"], "start": "12:00", "end": "12:30",
         "note": "lunch"},
        {"state": "away", "date": "2026-12-09", "start": "09:00", "end": "11:00"}]
    r = post_form(admin, hq, "/org/delete/period/W1.away.2026-12-09.0900", {}, page)
    assert r.status_code == 303
    assert stored(hq) == ["W1.closed.mofr.1200"]


def test_a_bad_period_is_shown_with_nothing_written_and_csrf_is_required(
        admin: requests.Session, hq: EmbeddedHQ) -> None:
    before = stored(hq)
    page = get(admin, hq, "/schedules")
    r = post_form(admin, hq, "/org/save/period", {
        "window_id": "W1", "state": "closed", "date": "2026-12-10", "days": "tue",
        "start": "12:00", "end": "13:00"}, page)
    assert r.status_code == 400
    assert "give either days (weekly) or date (one day), not both or neither" in r.text
    r = post_form(admin, hq, "/org/save/period", {
        "window_id": "W1", "state": "closed", "date": "2026-12-10", "start": "14:00",
        "end": "13:00"}, page)
    assert r.status_code == 400 and "end 13:00 must be after start 14:00" in r.text
    r = admin.post(hq.url + "/org/save/period", data={
        "window_id": "W1", "state": "closed", "date": "2026-12-10", "start": "12:00",
        "end": "13:00"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert stored(hq) == before


def test_a_branch_manager_plans_only_their_windows(hq: EmbeddedHQ) -> None:
    bm2 = page_session(hq, "bm2", PW)
    page = get(bm2, hq, "/schedules")
    assert "<option value=\"W1\">" not in page  # W1 is in B1
    r = post_form(bm2, hq, "/org/save/period", {
        "window_id": "W1", "state": "away", "date": "2026-12-11", "start": "09:00",
        "end": "10:00"}, page)
    assert r.status_code == 403 and "window W1 is not in your scope" in r.text
    r = post_form(bm2, hq, "/org/delete/period/W1.closed.mofr.1200", {}, page)
    assert r.status_code == 403
    r = post_form(bm2, hq, "/org/save/period", {
        "window_id": "W2", "state": "away", "date": "2026-12-11", "start": "09:00",
        "end": "10:00"}, page)
    assert r.status_code == 303
    assert "W2.away.2026-12-11.0900" in stored(hq)
    assert 'data-period="W1.closed.mofr.1200"' not in get(bm2, hq, "/schedules")


def test_the_import_names_its_bad_rows_and_imports_nothing(admin: requests.Session,
                                                           hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/schedules")
    tpl = admin.get(hq.url + "/org/import/periods/template?format=csv", timeout=10)
    assert tpl.status_code == 200 and "window_id,state,date,days,start,end,note" in tpl.text
    before = stored(hq)
    bad = ("window_id,state,date,days,start,end,note\n"
           "W1,closed,,tue;thu,12:00,12:45,lunch\n"
           "W1,shut,,wed,12:00,12:45,\n"
           "W9,away,2026-12-12,,09:00,10:00,\n")
    r = admin.post(hq.url + "/org/import/periods", data={"csrf_token": csrf(page)},
                   files={"file": ("periods.csv", bad.encode())}, timeout=30)
    assert r.status_code == 400 and "Nothing was imported from periods.csv" in r.text
    assert "<td class=\"num\">3</td><td>state: Input should be" in r.text
    assert "<td class=\"num\">4</td><td>window_id: no window &#39;W9&#39;" in r.text
    assert stored(hq) == before
    good = bad.splitlines()[0] + "\n" + bad.splitlines()[1] + "\n"
    r = admin.post(hq.url + "/org/import/periods", data={"csrf_token": csrf(page)},
                   files={"file": ("periods.csv", good.encode())}, allow_redirects=False,
                   timeout=30)
    assert r.status_code == 303
    assert "W1.closed.tuth.1200" in stored(hq)


def test_the_chinese_page_names_the_states(hq: EmbeddedHQ) -> None:
    zhang = page_session(hq, "zhang", PW)
    page = get(zhang, hq, "/schedules")
    assert "计划暂停服务与外出办公" in page and "暂停服务" in page
    assert "添加计划暂停服务或外出办公时段" in page


def test_a_counter_zone_over_the_customer_is_refused_naming_zone_and_rule(
        admin: requests.Session, hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/org")
    for name, x0, x1, y1 in (("seat", "0", "0.5", "1"), ("customer", "0.5", "1", "0.7")):
        r = post_form(admin, hq, "/org/save/zone", {"window_id": "W1", "name": name,
                                                    "x0": x0, "y0": "0", "x1": x1,
                                                    "y1": y1}, page)
        assert r.status_code == 303, r.text[:400]
    r = post_form(admin, hq, "/org/save/zone", {"window_id": "W1", "name": "counter",
                                                "x0": "0.3", "y0": "0.2", "x1": "1",
                                                "y1": "0.95"}, page)
    assert r.status_code == 400
    assert ("zone counter of window W1: zones.counter covers 71% of zones.customer; "
            "at most 50%") in r.text
    r = post_form(admin, hq, "/org/save/zone", {"window_id": "W1", "name": "counter",
                                                "x0": "0.3", "y0": "0.6", "x1": "1.2",
                                                "y1": "0.95"}, page)
    assert r.status_code == 400
    assert "zone counter: x1: Input should be less than or equal to 1" in r.text
    with hq.deps.org.reading() as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM org_zones ORDER BY name")]
    assert names == ["customer", "seat"]
