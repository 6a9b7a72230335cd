"""Staff contacts (phone, email, im_id) through the whole authoring path on a real HQ: the
/staff form (CSRF, edit pre-fills it, a bad value refused naming field and rule), CSV
import naming the row and rule, the import template, ``counterunit hq import``; then the
/alerts/policy page offering recipients ``staff`` and a real off-seat alert mailed to the
staff member by HQ's own outbox (aiosmtpd on loopback). Also: an events.db from before the
contact columns opens and gains them in place."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hq.alerts import open_threads
from hq.cli import main as hq_main
from hq.org.authoring.store import OrgStore
from hq.org.importing.files import COLUMNS, template_bytes
from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.events import SqliteEventStore
from hq.storage.scope import Scope
from tests.helpers.hq.alert_receivers import SmtpReceiver
from tests.helpers.hq.alerts import off_seat
from tests.helpers.hq.web import csrf, page_session, post_form
from tests.servers.postgres_fixtures import BACKENDS, backend_for

PW = "a long enough password"


@pytest.fixture(scope="module", params=BACKENDS)
def hq(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
       ) -> Iterator[EmbeddedHQ]:
    root = tmp_path_factory.mktemp("staff-contacts")
    backend = backend_for(request)
    backend.configure(root / "data")
    with running_hq(root) as server:
        server.deps.user_store().create_user("root", PW, "admin", language="en")
        yield server
    backend.close()


@pytest.fixture(scope="module")
def admin(hq: EmbeddedHQ) -> requests.Session:
    s = page_session(hq, "root", PW)
    for kind, data in [("branch", {"branch_id": "B1", "name": "Main"}),
                       ("hall", {"hall_id": "H1", "branch_id": "B1", "name": "Hall 1"}),
                       ("window", {"window_id": "W1", "hall_id": "H1", "name": "Window 1"})]:
        assert post_form(s, hq, f"/org/save/{kind}", data, get(s, hq, "/org")).status_code == 303
    return s


def get(s: requests.Session, hq: EmbeddedHQ, path: str) -> str:
    r = s.get(hq.url + path, timeout=10)
    assert r.status_code == 200, (path, r.status_code)
    return r.text


def contacts(hq: EmbeddedHQ, staff_no: str) -> tuple[str | None, ...] | None:
    with hq.deps.org.reading() as conn:
        row = conn.execute("SELECT phone, email, im_id FROM org_staff WHERE staff_no = ?",
                           [staff_no]).fetchone()
    return None if row is None else tuple(row)


def test_the_staff_form_saves_shows_and_edits_contacts(admin: requests.Session,
                                                       hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/staff")
    r = post_form(admin, hq, "/org/save/staff", {
        "staff_no": "S001", "name": "Li Wei", "home_branch_id": "B1",
        "phone": "+86 138-0000-0001", "email": "li.wei@bank.example", "im_id": "liwei"}, page)
    assert r.status_code == 303, r.text[:400]
    assert contacts(hq, "S001") == ("+8613800000001", "li.wei@bank.example", "liwei")
    page = get(admin, hq, "/staff")
    assert '<td class="staff-phone">+8613800000001</td>' in page
    assert '<td class="staff-im">liwei</td>' in page and 'href="/staff?edit=S001' in page
    edit = get(admin, hq, "/staff?edit=S001")
    assert 'name="phone" type="tel" maxlength="24" placeholder="+8613800000001" ' \
           'value="+8613800000001"' in edit
    assert 'value="li.wei@bank.example"' in edit and "Change staff member S001" in edit
    # Clearing a field in the edited form clears it in the record.
    r = post_form(admin, hq, "/org/save/staff", {"staff_no": "S001", "name": "Li Wei",
                                                 "home_branch_id": "B1",
                                                 "email": "li.wei@bank.example"}, edit)
    assert r.status_code == 303
    assert contacts(hq, "S001") == (None, "li.wei@bank.example", None)
    # A bad phone: 400 naming the field and the rule, nothing written.
    r = post_form(admin, hq, "/org/save/staff", {"staff_no": "S001", "name": "Li Wei",
                                                 "phone": "138-0000-000x"}, edit)
    assert r.status_code == 400
    assert ("phone: must be digits with an optional leading + (E.164, e.g. +8613800000001), "
            "5 to 15 digits") in r.text
    assert contacts(hq, "S001") == (None, "li.wei@bank.example", None)
    # Without the form's CSRF token nothing is written.
    forged = admin.post(hq.url + "/org/save/staff", data={"staff_no": "S001", "name": "x",
                                                          "phone": "+8613999999999"},
                        allow_redirects=False, timeout=10)
    assert forged.status_code == 403 and contacts(hq, "S001")[0] is None  # type: ignore[index]
    assert get(admin, hq, "/staff?edit=NOBODY").count('value=""') >= 3  # a blank form


def test_csv_import_names_the_row_and_rule_of_a_bad_contact(admin: requests.Session,
                                                            hq: EmbeddedHQ) -> None:
    page = get(admin, hq, "/staff")
    bad = (b"staff_no,name,home_branch_id,phone,email,im_id\n"
           b"S101,Zhao,B1,+8613800000101,zhao@bank.example,zhao\n"
           b"S102,Qian,B1,12-34,qian@bank.example,\n"
           b"S103,Sun,B1,,sun@bank,\n")
    r = admin.post(hq.url + "/org/import/staff", data={"csrf_token": csrf(page)},
                   files={"file": ("roster.csv", bad)}, timeout=30)
    assert r.status_code == 400 and "Nothing was imported from roster.csv" in r.text
    assert ('<td class="num">3</td><td>phone: must be digits with an optional leading + '
            '(E.164') in r.text
    assert ('<td class="num">4</td><td>email: must be an e-mail address like '
            'name@bank.example (got &#39;sun@bank&#39;)') in r.text
    assert contacts(hq, "S101") is None  # nothing half-imported
    good = bad.replace(b"12-34", b"138 0000 0102").replace(b"sun@bank,", b"sun@bank.cn,")
    r = admin.post(hq.url + "/org/import/staff", data={"csrf_token": csrf(page)},
                   files={"file": ("roster.csv", good)}, allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert contacts(hq, "S102") == ("13800000102", "qian@bank.example", None)
    # A file from the older template (no contact columns) leaves stored contacts alone.
    old = b"staff_no,name,home_branch_id\nS101,Zhao Lei,B1\n"
    r = admin.post(hq.url + "/org/import/staff", data={"csrf_token": csrf(page)},
                   files={"file": ("old.csv", old)}, allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert contacts(hq, "S101") == ("+8613800000101", "zhao@bank.example", "zhao")
    tpl = admin.get(hq.url + "/org/import/staff/template?format=csv", timeout=10)
    assert tpl.content.decode("utf-8-sig").splitlines()[0].endswith(",phone,email,im_id")


def test_cli_import_names_the_row_and_rule(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "hq"
    data.mkdir()
    store = OrgStore(data / "events.db")
    store.author("branch", {"branch_id": "B1", "name": "Main"})
    store.close()
    assert COLUMNS["staff"][-3:] == ("phone", "email", "im_id")
    roster = tmp_path / "roster.csv"
    roster.write_bytes(template_bytes("staff", "csv")
                       + b"S001,Li,,B1,,true,+86138000000011234567,,\n")
    assert hq_main(["import", "staff", "--data", str(data), str(roster)]) == 1
    err = capsys.readouterr().err
    assert "nothing imported; 1 problem(s)" in err
    assert "row 2: phone: must be digits with an optional leading + (E.164" in err
    ok = '{"staff_no": "S001", "name": "Li", "im_id": "li.wei@corp"}'
    assert hq_main(["org-set", "staff", "--data", str(data), ok]) == 0
    bad = json.dumps({"staff_no": "S001", "name": "Li", "email": "li"})
    assert hq_main(["org-set", "staff", "--data", str(data), bad]) == 1
    assert "email: must be an e-mail address like name@bank.example" in capsys.readouterr().err


def test_the_policy_page_offers_staff_and_hq_mails_the_staff_member(
        admin: requests.Session, hq: EmbeddedHQ) -> None:
    smtp = SmtpReceiver()
    try:
        page = get(admin, hq, "/alerts/policy")
        assert 'data-kind="staff"' in page and "The staff member the alert is about" in page
        doc = {"silent_after_min": 1440, "hq_url": hq.url, "channels": {"mail": {
            "url": f"mailto://127.0.0.1:{smtp.port}?from=hq@bank.example&to={{email}}"},
            "sms": {"url": "smseagle://tok@127.0.0.1:9/{phone}"}},  # never reached
            "default": {"kinds": {"off_seat": {"levels": {"1": {
                "channels": ["mail", "sms"], "recipients": {"staff": True}}}}}}}
        r = post_form(admin, hq, "/alerts/policy", {"policy": json.dumps(doc)}, page)
        assert r.status_code == 303, r.text[:400]
        post_form(admin, hq, "/org/save/staff", {"staff_no": "S001", "name": "Li Wei",
                                                 "home_branch_id": "B1",
                                                 "email": "li.wei@bank.example"},
                  get(admin, hq, "/staff"))
        hq.deps.org.bind("unit-a", "W1")
        hq.deps.events.ingest("unit-a", [off_seat(1, "contacts-a1", staff="S001")])
        smtp.wait_for(1, timeout=20)  # HQ's own outbox thread, real clock
        assert smtp.messages[0]["To"] == "li.wei@bank.example"
        assert "Staff: Li Wei (S001)" in smtp.messages[0].get_body(  # type: ignore[union-attr]
            ("plain",)).get_content()
        # Li Wei has no phone: the alert's page shows the SMS as skipped, and why.
        [tid] = [t.thread_id for t in open_threads(hq.deps.events._conn, Scope.everything())]
        alert = get(admin, hq, f"/alerts/{tid}")
        assert ('<tr class="delivery-skipped"><td>1</td><td>sms</td><td>staff:S001</td>'
                '<td>skipped</td>') in alert
        assert "skipped: staff S001 (Li Wei) has no phone number in the staff record" in alert
    finally:
        smtp.close()


OLD_ORG_STAFF = ("CREATE TABLE org_staff (staff_no TEXT PRIMARY KEY, name TEXT NOT NULL, "
                 "home_branch_id TEXT REFERENCES org_branches (branch_id), badge_uid TEXT, "
                 "photo_id TEXT, active INTEGER NOT NULL DEFAULT 1)")


def test_an_events_db_from_before_the_contact_columns_upgrades_in_place(tmp_path: Path
                                                                        ) -> None:
    path = tmp_path / "events.db"
    old = sqlite3.connect(path)
    old.execute(OLD_ORG_STAFF)
    old.execute("INSERT INTO org_staff (staff_no, name) VALUES ('S001', 'Li Wei')")
    old.commit()
    old.close()
    events = SqliteEventStore(path)  # the events store alone leaves org_staff as it was
    org = OrgStore.sharing(events)  # ... HQ's authoring adds the columns
    with org.reading() as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(org_staff)")]
    assert cols[-3:] == ["phone", "email", "im_id"]
    org.author("staff", {"staff_no": "S001", "name": "Li Wei", "phone": "+8613800000001"})
    events.close()
    again = OrgStore(path)  # opening again changes nothing
    with again.reading() as conn:
        assert tuple(conn.execute("SELECT name, phone FROM org_staff").fetchone()) == \
            ("Li Wei", "+8613800000001")
    again.close()
