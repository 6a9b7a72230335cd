"""/alerts pages on a real HQ: the list in scope, a thread's story, acknowledging and
commenting from the page (CSRF), and the policy page (admin; a bad one changes nothing)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.alerts import policy_store
from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq.alerts import off_seat, seed_org
from tests.helpers.hq.web import page_session, post_form
from tests.servers.postgres_fixtures import Backend

PW = "correct horse battery"


@pytest.fixture
def hq(tmp_path: Path, backend: Backend) -> Iterator[EmbeddedHQ]:
    backend.configure(tmp_path / "data")
    with running_hq(tmp_path) as hq:
        seed_org(hq.deps.events._conn)
        users = hq.deps.user_store()
        users.create_user("admin", PW, "admin", scope=Scope.everything(), language="en")
        users.create_user("lin", PW, "hall_supervisor", scope=Scope.parse("hall:H1"),
                          language="en")
        users.create_user("pu", PW, "hall_supervisor", scope=Scope.parse("hall:H3"))
        users.create_user("vic", PW, "viewer", scope=Scope.everything())
        hq.deps.events.ingest("unit-a", [off_seat(1), off_seat(2, minute=1)])
        hq.deps.events.ingest("unit-c", [off_seat(1, "c1", unit="unit-c", staff=None)])
        yield hq


def test_list_detail_and_ack_from_the_page(hq: EmbeddedHQ) -> None:
    lin = page_session(hq, "lin", PW)
    page = lin.get(f"{hq.url}/alerts", timeout=10)
    assert page.status_code == 200
    assert "Li Wei (S001)" in page.text and "Window 1" in page.text
    assert "Pudong" not in page.text  # unit-c's hall is not lin's
    [tid] = re.findall(r'href="/alerts/(\d+)"', page.text)
    d = lin.get(f"{hq.url}/alerts/{tid}", timeout=10)
    assert "Staff off seat" in d.text and 'href="/#window-W1"' in d.text
    assert "not yet" in d.text
    r = post_form(lin, hq, f"/alerts/{tid}/ack", {"comment": "on my way"}, page=d.text)
    assert (r.status_code, r.headers["location"]) == (303, f"/alerts/{tid}")
    d = lin.get(f"{hq.url}/alerts/{tid}", timeout=10)
    assert "on my way" in d.text and re.search(r'id="acked">lin, ', d.text)
    assert post_form(lin, hq, f"/alerts/{tid}/comment", {"text": "Li is back"},
                     page=d.text).status_code == 303
    assert "Li is back" in lin.get(f"{hq.url}/alerts/{tid}", timeout=10).text
    # Without the form's CSRF token nothing is written.
    bad = lin.post(f"{hq.url}/alerts/{tid}/comment", data={"text": "forged"}, timeout=10)
    assert bad.status_code == 403 and "forged" not in lin.get(
        f"{hq.url}/alerts/{tid}", timeout=10).text
    pu = page_session(hq, "pu", PW)
    assert pu.get(f"{hq.url}/alerts/{tid}", timeout=10).status_code == 404
    vic = page_session(hq, "vic", PW)  # reads Chinese, the default language
    as_vic = vic.get(f"{hq.url}/alerts/{tid}", timeout=10).text
    assert "员工离岗" in as_vic and 'id="ack-form"' not in as_vic
    assert post_form(vic, hq, f"/alerts/{tid}/ack", {}).status_code == 403


def test_policy_page(hq: EmbeddedHQ) -> None:
    admin = page_session(hq, "admin", PW)
    page = admin.get(f"{hq.url}/alerts/policy", timeout=10)
    assert page.status_code == 200 and "version 0" in page.text
    doc = {"channels": {"room": {"url": "json://127.0.0.1:9/room"}},
           "default": {"kinds": {"*": {"levels": {"1": {"channels": ["room"],
                                                         "plan": "Call the manager"}}}}}}
    r = post_form(admin, hq, "/alerts/policy", {"policy": json.dumps(doc)}, page=page.text)
    assert r.status_code == 303
    r = admin.get(f"{hq.url}/alerts/policy", timeout=10)
    assert "version 1" in r.text and "Call the manager" in r.text
    bad = {**doc, "default": {"kinds": {"*": {"levels": {"1": {"channels": ["pager"]}}}}}}
    r = post_form(admin, hq, "/alerts/policy", {"policy": json.dumps(bad)}, page=r.text)
    assert r.status_code == 400 and "no channel named &#39;pager&#39;" in r.text
    with hq.deps.alert_service().db() as conn:
        assert policy_store.current(conn).version == 1
    lin = page_session(hq, "lin", PW)
    assert lin.get(f"{hq.url}/alerts/policy", timeout=10).status_code == 403
