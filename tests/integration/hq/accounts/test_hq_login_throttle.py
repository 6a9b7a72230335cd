"""Brute force against HQ's real app over HTTPS (issue 13 item 3), API and login page.

Before: 60 wrong passwords in 2.7 s, then the right one worked, nothing audited.
Each test gets its own embedded HQ, since the address limit covers every username
from 127.0.0.1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.scope import Scope
from tests.helpers.hq.web import browser, login_response

PW = "a long enough password"


@pytest.fixture
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHQ]:
    with running_hq(tmp_path_factory.mktemp("throttle")) as server:
        users = server.deps.user_store()
        users.create_user("ann", PW, "viewer", scope=Scope.parse("branch:b1"))
        users.create_user("bob", PW, "viewer", scope=Scope.parse("branch:b1"))
        yield server


def _token(hq: EmbeddedHQ, username: str, password: str) -> requests.Response:
    return requests.post(hq.url + "/v1/auth/token",
                         json={"username": username, "password": password},
                         verify=str(hq.ca_pem), timeout=30)


def test_sixty_wrong_passwords_then_the_right_one_is_refused_and_audited(
        hq: EmbeddedHQ, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="hq")
    statuses = [_token(hq, "ann", f"wrong guess {i:03d}").status_code for i in range(60)]
    assert statuses == [401] * 5 + [429] * 55
    right = _token(hq, "ann", PW)
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 60
    assert right.json()["error"] == "too_many_failures"
    # The login page shares the state: no way round through the form.
    page = login_response(browser(hq), hq, "ann", PW)
    assert page.status_code == 429 and "__Host-cu-session" not in page.cookies
    failed = hq.deps.audit.query(action="login_failed", object_id="ann", limit=1000)
    assert len(failed) == 62
    assert [r.detail for r in failed[:6]] == ["reason=bad_credentials; via=api"] * 5 + [
        "reason=throttled_user; via=api"]
    assert failed[-1].detail == "reason=throttled_user; via=page"
    assert all(r.client == "127.0.0.1" and r.actor == "ann" for r in failed)
    assert not any("wrong guess" in r.detail or PW in r.detail for r in failed)
    # Passwords are never logged (the refusals are, once each, naming the account).
    assert "wrong guess" not in caplog.text and PW not in caplog.text
    assert "login as 'ann': throttled_user" in caplog.text
    # Another user is not affected: 6 failures from this address is under its limit.
    ok = _token(hq, "bob", PW)
    assert ok.status_code == 200
    assert hq.deps.audit.query(action="login", object_id="bob", limit=10)[-1].detail \
        == "via=api"


def test_the_address_limit_holds_across_usernames(hq: EmbeddedHQ) -> None:
    for i in range(5):
        for _ in range(4):
            assert _token(hq, f"sprayed{i}", "wrong password!").status_code == 401
    assert _token(hq, "bob", PW).status_code == 429
    page = login_response(browser(hq), hq, "bob", PW)
    assert page.status_code == 429
    reasons = [r.detail for r in hq.deps.audit.query(action="login_failed", limit=1000)]
    assert reasons.count("reason=throttled_address; via=api") == 1
    assert reasons.count("reason=throttled_address; via=page") == 1
