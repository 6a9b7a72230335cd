"""/v1/alerts on a real HQ (uvicorn, TLS) with its outbox running: scope, detail with
deliveries, acknowledgement by API and by the signed link, the policy (admin only)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from hq.accounts.users import Contact
from hq.storage.scope import Scope
from tests.helpers.hq.alert_receivers import HttpReceiver
from tests.helpers.hq.alerts import off_seat, seed_org
from tests.helpers.hq.server import HQServer, running_hq
from tests.servers.postgres_fixtures import Backend

PW = "correct horse battery"


@dataclass
class Site:
    hq: HQServer
    hook: HttpReceiver
    tokens: dict[str, str]

    def call(self, method: str, path: str, who: str | None = "admin", **kw: Any):
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return requests.request(method, self.hq.url + path, headers=headers,
                                verify=str(self.hq.ca_pem), timeout=10, **kw)


@pytest.fixture
def site(tmp_path: Path, backend: Backend) -> Iterator[Site]:
    backend.configure(tmp_path / "data")
    hook = HttpReceiver()
    with running_hq(tmp_path) as hq:
        seed_org(hq.deps.events._conn)
        users = hq.deps.user_store()
        for name, role, scope in [("admin", "admin", Scope.everything()),
                                  ("lin", "hall_supervisor", Scope.parse("hall:H1")),
                                  ("pu", "hall_supervisor", Scope.parse("hall:H3"))]:
            users.create_user(name, PW, role, scope=scope,
                              contact=Contact(email=f"{name}@bank.example"))
        tokens = {u: users.issue_token(u).token for u in ("admin", "lin", "pu")}
        s = Site(hq, hook, tokens)
        policy = {"hq_url": hq.url, "channels": {"room": {
            "url": f"json://127.0.0.1:{hook.port}/room"}},
            "default": {"kinds": {"*": {"levels": {"1": {
                "channels": ["room"], "plan": "Send the floor manager."}}}}}}
        assert s.call("PUT", "/v1/alerts/policy", json=policy).status_code == 200
        yield s
    hook.close()


def test_list_detail_ack_and_link(site: Site) -> None:
    site.hq.deps.events.ingest("unit-a", [off_seat(1)])
    site.hook.wait_for(lambda got: len(got) == 1)  # the outbox thread of the running HQ
    [t] = site.call("GET", "/v1/alerts", "lin").json()["threads"]
    assert (t["kind"], t["window_name"], t["staff_name"], t["status"]) == (
        "off_seat", "Window 1", "Li Wei", "open")
    assert site.call("GET", "/v1/alerts", "pu").json()["threads"] == []
    assert site.call("GET", f"/v1/alerts/{t['thread_id']}", "pu").status_code == 404
    assert site.call("POST", f"/v1/alerts/{t['thread_id']}/ack", "pu",
                     json={}).status_code == 404

    # The message carries a signed link; GET shows a button, POST acknowledges.
    text = site.hook.received[0].json()["message"]
    assert "Send the floor manager." in text
    link = re.search(r"Acknowledge: (\S+)", text).group(1)  # type: ignore[union-attr]
    page = requests.get(link, verify=str(site.hq.ca_pem), timeout=10)
    assert page.status_code == 200 and "Acknowledge" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    d = site.call("GET", f"/v1/alerts/{t['thread_id']}").json()
    assert d["thread"]["acked_utc"] is None  # opening the link changed nothing
    token = link.split("token=")[1]
    forged = token[:-2] + ("00" if not token.endswith("00") else "11")
    bad = requests.post(link.split("?")[0], data={"token": forged},
                        verify=str(site.hq.ca_pem), timeout=10)
    assert bad.status_code == 403 and bad.json()["error"] == "bad_link"
    ok = requests.post(link.split("?")[0], data={"token": token},
                       verify=str(site.hq.ca_pem), timeout=10)
    assert ok.status_code == 200 and "acknowledged" in ok.text

    r = site.call("POST", f"/v1/alerts/{t['thread_id']}/ack", "lin", json={"comment": "seen"})
    assert r.json() == {"acknowledged": True, "first": False}
    site.call("POST", f"/v1/alerts/{t['thread_id']}/comments", "lin",
              json={"text": "Li is back"})
    d = site.call("GET", f"/v1/alerts/{t['thread_id']}", "lin").json()
    assert d["thread"]["acked_by"] == "link:room"
    assert [(n["username"], n["kind"]) for n in d["notes"]] == [
        ("link:room", "ack"), ("lin", "ack"), ("lin", "comment")]
    assert [x["level"] for x in d["levels"]] == [1]
    by_channel = {x["channel"]: x for x in d["deliveries"]}
    assert by_channel["dashboard"]["status"] == "delivered"
    assert by_channel["room"]["status"] == "delivered"
    assert by_channel["room"]["attempt_log"][0]["ok"] == 1
    assert "url" not in by_channel["room"]  # channel URLs (secrets) stay inside HQ


def test_policy_is_admins_and_checked(site: Site) -> None:
    got = site.call("GET", "/v1/alerts/policy").json()
    assert got["version"] == 1 and got["policy"]["channels"]["room"]["url"].startswith("json")
    assert site.call("GET", "/v1/alerts/policy", "lin").status_code == 403
    assert site.call("PUT", "/v1/alerts/policy", "lin", json={}).status_code == 403
    assert site.call("GET", "/v1/alerts", None).status_code == 401
    assert site.call("GET", "/v1/alerts/99999999999999999999999").status_code == 422
    assert site.call("GET", "/v1/alerts/12345").status_code == 404
    bad = site.call("PUT", "/v1/alerts/policy", json={"default": {"kinds": {"*": {"levels": {
        "1": {"channels": ["pager"]}}}}}})
    assert bad.status_code == 422
    assert "no channel named 'pager'" in bad.json()["detail"]
    assert site.call("GET", "/v1/alerts/policy").json()["version"] == 1  # nothing written
    assert site.call("GET", "/v1/alerts/policy").json()["versions"][0]["username"] == "admin"
