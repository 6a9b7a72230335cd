"""Two real HQ worker processes on one data folder (issue 17 item 2, "stateless workers").

Each worker is its own ``counterunit hq serve`` process pinned to its own port, so the
test chooses which one answers each request: one unit's tus upload goes chunk by chunk
alternately to each and ends as a verified clip, and a browser-like session logs in on
one, posts forms with its CSRF token on the other, and is throttled and logged out
across both. Once on SQLite files (WAL, shared by the processes) and once on the
session's PostgreSQL 15.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hq.cli import main as hq_main
from hq.storage import LocalClipStore
from tests.helpers.hq.alert_receivers import free_port
from tests.helpers.hq.procs import Unit, unit_identity, workers
from tests.helpers.hq.web import HTML, csrf
from tests.servers.postgres_fixtures import BACKENDS, Backend, backend_for

ADMIN, PW = "root", "a long enough admin password"


@dataclass
class Pair:
    data: Path
    urls: list[str]
    backend: Backend
    tmp: Path

    def url(self, i: int) -> str:
        return self.urls[i % 2]


@pytest.fixture(scope="module", params=BACKENDS)
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Pair]:
    backend = backend_for(request)
    tmp = tmp_path_factory.mktemp(f"workers-{backend.name}")
    data = backend.configure(tmp / "hq")
    assert hq_main(["user-add", "--data", str(data), "--username", ADMIN, "--role", "admin",
                    "--password", PW]) == 0
    ports = [free_port(), free_port()]
    try:
        with workers(data, ports, tmp):
            yield Pair(data, [f"https://localhost:{p}" for p in ports], backend, tmp)
    finally:
        backend.close()


def _tus(unit: Unit) -> requests.Session:
    s = requests.Session()
    s.cert, s.verify, s.trust_env = unit.cert, unit.verify, False
    s.headers["Tus-Resumable"] = "1.0.0"
    return s


def _meta(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def test_one_units_upload_alternates_between_workers_and_ends_verified(pair: Pair) -> None:
    unit = unit_identity(pair.data, pair.tmp / "units", "unit-alt")
    clip = os.urandom(700_000)
    digest = hashlib.sha256(clip).hexdigest()
    s = _tus(unit)
    r = s.post(f"{pair.url(0)}/v1/uploads", timeout=30, headers={
        "Upload-Length": str(len(clip)),
        "Upload-Metadata": _meta(clip_id="clip-alt-1", sha256=digest)})
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    chunk, offset, i = 100_000, 0, 1
    while offset < len(clip):
        # The other worker tells where the upload stands, then takes the chunk.
        head = s.head(f"{pair.url(i)}{location}", timeout=30)
        assert head.status_code == 200 and int(head.headers["Upload-Offset"]) == offset
        r = s.patch(f"{pair.url(i)}{location}", data=clip[offset:offset + chunk], timeout=60,
                    headers={"Upload-Offset": str(offset),
                             "Content-Type": "application/offset+octet-stream"})
        assert r.status_code == 204, r.text
        offset = int(r.headers["Upload-Offset"])
        i += 1
    assert offset == len(clip)
    # A stale offset sent to the worker that did not take the last chunk is refused
    # with the true offset: neither worker keeps its own idea of it.
    stale = s.patch(f"{pair.url(i)}{location}", data=b"x", timeout=30,
                    headers={"Upload-Offset": "0",
                             "Content-Type": "application/offset+octet-stream"})
    assert stale.status_code == 409 and stale.headers["Upload-Offset"] == str(len(clip))
    again = s.post(f"{pair.url(i + 1)}/v1/uploads", timeout=30, headers={
        "Upload-Length": str(len(clip)),
        "Upload-Metadata": _meta(clip_id="clip-alt-1", sha256=digest)})
    assert again.status_code == 201 and again.headers["Upload-Offset"] == str(len(clip))
    store = LocalClipStore(pair.data / "clips")
    try:
        stored = store.open_clip("clip-alt-1", "unit-alt")
        assert (stored.size, stored.sha256) == (len(clip), digest)
        assert b"".join(store.read_range(stored, 0, len(clip) - 1)) == clip
    finally:
        store.close()


def _browser(pair: Pair) -> requests.Session:
    s = requests.Session()
    s.verify, s.trust_env = str(pair.data / "ca" / "ca.pem"), False
    s.headers.update(HTML)
    return s


def _login(s: requests.Session, form_url: str, post_url: str, password: str
           ) -> requests.Response:
    form = s.get(f"{form_url}/login", timeout=30)
    assert form.status_code == 200, form.text[:300]
    return s.post(f"{post_url}/login", data={"username": ADMIN, "password": password,
                                             "csrf_token": csrf(form.text), "next": "/"},
                  allow_redirects=False, timeout=60)


def test_a_browser_session_works_across_both_workers(pair: Pair) -> None:
    s = _browser(pair)
    # The login form from worker 0, posted to worker 1.
    r = _login(s, pair.url(0), pair.url(1), PW)
    assert r.status_code == 303, r.text[:300]
    # The session made by worker 1 is known to worker 0; its CSRF token too.
    page = s.get(f"{pair.url(0)}/users", timeout=30)
    assert page.status_code == 200 and ADMIN in page.text
    added = s.post(f"{pair.url(1)}/users", allow_redirects=False, timeout=60, data={
        "username": "mgr-across", "password": PW, "role": "admin",
        "csrf_token": csrf(page.text)})
    assert added.status_code == 303, added.text[:300]
    listed = s.get(f"{pair.url(0)}/users", timeout=30)
    assert re.search(r"\bmgr-across\b", listed.text)
    # A form without the session's token is refused by either worker.
    forged = s.post(f"{pair.url(0)}/users", allow_redirects=False, timeout=30, data={
        "username": "forged1", "password": PW, "role": "admin", "csrf_token": "x" * 43})
    assert forged.status_code == 403
    # Logging out on worker 0 ends the session on worker 1.
    out = s.post(f"{pair.url(0)}/logout", allow_redirects=False, timeout=30,
                 data={"csrf_token": csrf(listed.text)})
    assert out.status_code == 303
    s.cookies.set("__Host-cu-session", r.cookies["__Host-cu-session"])
    gone = s.get(f"{pair.url(1)}/users", allow_redirects=False, timeout=30)
    assert gone.status_code in (302, 303, 401) and gone.status_code != 200


def test_login_throttling_counts_failures_on_both_workers(pair: Pair) -> None:
    s = _browser(pair)
    # GuardPolicy: 5 failures of one name within the window; alternate the workers.
    for i in range(5):
        r = _login(s, pair.url(i), pair.url(i), "wrong password " + str(i))
        assert r.status_code == 401, (i, r.status_code)
    for i in range(2):
        r = _login(s, pair.url(i), pair.url(i), PW)  # even the right one is refused now
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 60
    assert hq_main(["user-unlock", "--data", str(pair.data), "--username", ADMIN]) == 0
    assert _login(s, pair.url(1), pair.url(0), PW).status_code == 303


def test_a_revoked_unit_is_refused_by_both_workers_at_once(pair: Pair) -> None:
    unit = unit_identity(pair.data, pair.tmp / "units", "unit-rev")
    s = _tus(unit)
    for i in range(2):
        r = s.post(f"{pair.url(i)}/v1/events", json={"events": []}, timeout=30)
        assert r.status_code == 200, r.text
    assert hq_main(["revoke", "--data", str(pair.data), "--unit", "unit-rev"]) == 0
    for i in range(2):  # the same kept-alive connections: nothing cached per worker
        assert s.post(f"{pair.url(i)}/v1/events", json={"events": []},
                      timeout=30).status_code == 403
