"""The HQ-user API over real TLS on loopback: tokens, search, detail, audited clip reads.

A real uvicorn (TLS-extension protocol) serves a FastAPI app holding only this router;
events go in through the event store as a unit's would, the clip is a real H.264 MP4
uploaded through the clip store, and `requests` pins HQ's CA.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import ssl
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import requests
import uvicorn
from fastapi import FastAPI

from hq.api.deps import HQDeps
from hq.api.users import build_users_router
from hq.asgi_tls import TLSExtensionH11Protocol
from hq.storage import SqliteAuditLog
from hq.users import UserStore
from sync.schema import EventEnvelope
from tests.conftest import wait_for

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
PW = "a long enough password"


def ev(type_: str, unit: str, minute: float, counter: str, **data: Any) -> EventEnvelope:
    return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=unit, counter_id=counter,
                         utc=T0 + dt.timedelta(minutes=minute), mono=minute * 60,
                         boot_id="boot-1", clock_synced=True, data=data)


def txn(txn_id: str, unit: str, minute: float, staff: str, counter: str, rating: int,
        suspect: bool = False) -> list[EventEnvelope]:
    return [
        ev("transaction_started", unit, minute, counter, txn_id=txn_id, staff_id=staff,
           session_id="sess", clip_id=txn_id),
        ev("transaction_ended", unit, minute + 3, counter, txn_id=txn_id, staff_id=staff,
           duration_s=180.0, reason="customer_left"),
        ev("rating", unit, minute + 3.1, counter, txn_id=txn_id, outcome="rated",
           rating=rating, suspect=suspect),
    ]


def noise_mp4(path: Path, frames: int = 12) -> bytes:
    """A real H.264 MP4 of noise: it compresses badly, so it spans many read chunks."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(frames):
            img = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return path.read_bytes()


@dataclasses.dataclass
class HQ:
    url: str
    deps: HQDeps
    users: UserStore
    ca_pem: Path
    clip: bytes
    tokens: dict[str, str]

    def get(self, path: str, role: str | None = "supervisor", **kw: Any) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return requests.get(self.url + path, headers=headers, verify=str(self.ca_pem),
                            timeout=10, **kw)

    def post(self, path: str, json: Any, role: str | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return requests.post(self.url + path, json=json, headers=headers,
                             verify=str(self.ca_pem), timeout=10)

    def audit(self, object_id: str) -> list[Any]:
        return self.deps.audit.query(object_id=object_id, limit=1000)


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQ]:
    root = tmp_path_factory.mktemp("hq")
    deps = HQDeps.open(root / "data", "test")
    users = UserStore(root / "users.db")
    for name, role in (("root", "admin"), ("sue", "supervisor"), ("aud", "auditor")):
        users.create_user(name, PW, role)
    tokens = {role: users.issue_token(name).token
              for name, role in (("root", "admin"), ("sue", "supervisor"), ("aud", "auditor"))}
    deps.events.register_unit("unit-a", "b1")
    deps.events.register_unit("unit-b", "b2")
    deps.events.ingest("unit-a", txn("t1", "unit-a", 0, "s1", "c1", 5)
                       + txn("t2", "unit-a", 10, "s2", "c1", 2, suspect=True))
    deps.events.ingest("unit-b", txn("t3", "unit-b", 20, "s1", "c2", 4))
    clip = noise_mp4(root / "t1.mp4")
    digest = hashlib.sha256(clip).hexdigest()
    upload = deps.clips.create("unit-a", "t1", len(clip), digest)
    deps.clips.append(upload.upload_id, "unit-a", 0, clip)
    deps.events.ingest("unit-a", [ev("clip_closed", "unit-a", 3.2, "c1", clip_id="t1",
                                     sha256=digest, size=len(clip), duration_s=1.2)])

    app = FastAPI(openapi_url="/v1/openapi.json")
    app.include_router(build_users_router(deps, users))
    # The same routes with an audit log that cannot be written (its connection closed).
    broken = SqliteAuditLog(root / "broken-audit.db")
    broken.close()
    app.include_router(build_users_router(dataclasses.replace(deps, audit=broken), users),
                       prefix="/broken")

    cert, key = deps.ca.issue_server_cert(["localhost", "127.0.0.1"]).write(root / "server")
    ca_pem = root / "data" / "ca" / "ca.pem"
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=TLSExtensionH11Protocol, ssl_certfile=str(cert),
        ssl_keyfile=str(key), ssl_ca_certs=str(ca_pem), ssl_cert_reqs=ssl.CERT_OPTIONAL,
        log_level="warning", lifespan="off", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "uvicorn started")
    port = server.servers[0].sockets[0].getsockname()[1]
    yield HQ(f"https://localhost:{port}", deps, users, ca_pem, clip, tokens)
    server.should_exit = True
    thread.join(10)


# ---- tokens ---------------------------------------------------------------------------

def test_token_flow_login_use_and_refusals(hq: HQ) -> None:
    r = hq.post("/v1/auth/token", {"username": "sue", "password": PW})
    assert r.status_code == 200
    token = r.json()["token"]
    assert dt.datetime.fromisoformat(r.json()["expires"]) > dt.datetime.now(dt.UTC)
    ok = requests.get(hq.url + "/v1/transactions", verify=str(hq.ca_pem), timeout=10,
                      headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and len(ok.json()) == 3
    wrong = hq.post("/v1/auth/token", {"username": "sue", "password": PW + "x"})
    unknown = hq.post("/v1/auth/token", {"username": "nobody", "password": PW})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "bad_credentials",
                                              "detail": "wrong username or password"}
    extra = hq.post("/v1/auth/token", {"username": "sue", "password": PW, "admin": True})
    assert 400 <= extra.status_code < 500


def test_logout_revokes_the_token(hq: HQ) -> None:
    token = hq.post("/v1/auth/token", {"username": "aud", "password": PW}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = requests.delete(hq.url + "/v1/auth/token", headers=auth, verify=str(hq.ca_pem),
                        timeout=10)
    assert r.status_code == 204
    again = hq.get("/v1/audit", role=None, headers=auth)
    assert again.status_code == 401


def test_default_user_store_lives_beside_the_config_folder(hq: HQ) -> None:
    build_users_router(hq.deps)
    assert (hq.deps.config_dir.parent / "users.db").exists()


def test_disabled_user_cannot_log_in_and_loses_its_tokens(hq: HQ) -> None:
    hq.users.create_user("leaver", PW, "supervisor")
    token = hq.users.issue_token("leaver").token
    hq.users.disable_user("leaver")
    assert hq.post("/v1/auth/token", {"username": "leaver", "password": PW}).status_code == 401
    r = requests.get(hq.url + "/v1/transactions", verify=str(hq.ca_pem), timeout=10,
                     headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic c3VlOnB3"}])
@pytest.mark.parametrize("path", ["/v1/transactions", "/v1/transactions/unit-a/t1",
                                  "/v1/clips/unit-a/t1", "/v1/audit"])
def test_no_valid_token_is_401(hq: HQ, path: str, headers: dict[str, str]) -> None:
    r = hq.get(path, role=None, headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    assert r.headers["WWW-Authenticate"] == "Bearer"


# ---- search and detail ----------------------------------------------------------------

@pytest.mark.parametrize(("params", "expected"), [
    ({}, ["t3", "t2", "t1"]),
    ({"branch": "b1"}, ["t2", "t1"]),
    ({"counter": "c2"}, ["t3"]),
    ({"unit": "unit-b"}, ["t3"]),
    ({"staff": "s1"}, ["t3", "t1"]),
    ({"rating": 5}, ["t1"]),
    ({"rating_min": 4}, ["t3", "t1"]),
    ({"rating_max": 2}, ["t2"]),
    ({"suspect": "true"}, ["t2"]),
    ({"suspect": "false"}, ["t3", "t1"]),
    ({"from": "2026-03-02T09:05:00Z"}, ["t3", "t2"]),
    ({"to": "2026-03-02T09:10:00Z"}, ["t1"]),
    ({"limit": 1, "offset": 1}, ["t2"]),
    ({"branch": "b1' OR '1'='1"}, []),
    ({"staff": "s1; DROP TABLE transactions; --"}, []),
    ({"unit": "%' --"}, []),
])
def test_search_filters(hq: HQ, params: dict[str, Any], expected: list[str]) -> None:
    r = hq.get("/v1/transactions", params=params)
    assert r.status_code == 200
    assert [t["txn_id"] for t in r.json()] == expected
    # Whatever was sent, the tables are intact.
    assert len(hq.get("/v1/transactions").json()) == 3


@pytest.mark.parametrize("params", [{"rating": "1 OR 1=1"}, {"limit": 0},
                                    {"limit": 100000}, {"offset": -1},
                                    {"from": "yesterday'; --"}, {"suspect": "maybe"},
                                    {"rating": 10**30}, {"offset": 10**30},
                                    {"from": "9999-12-31T23:59:59-05:00"},
                                    {"to": "0001-01-01T00:00:00+05:00"}])
def test_malformed_search_params_are_4xx(hq: HQ, params: dict[str, Any]) -> None:
    r = hq.get("/v1/transactions", params=params)
    assert 400 <= r.status_code < 500


def test_search_is_audited_with_its_query(hq: HQ) -> None:
    hq.get("/v1/transactions", role="auditor", params={"staff": "s2"})
    last = hq.deps.audit.query(actor="aud", action="search", limit=1000)[-1]
    assert last.object_id == "staff=s2" and last.detail == "results=1"
    assert (last.role, last.client) == ("auditor", "127.0.0.1")


def test_transaction_detail_includes_the_clip_and_is_audited(hq: HQ) -> None:
    r = hq.get("/v1/transactions/unit-a/t1")
    assert r.status_code == 200
    body = r.json()
    assert (body["staff_id"], body["branch_id"], body["rating"]) == ("s1", "b1", 5)
    assert body["clip"] == {"clip_id": "t1", "state": "closed",
                            "sha256": hashlib.sha256(hq.clip).hexdigest(),
                            "size": len(hq.clip), "stored": True,
                            "url": "/v1/clips/unit-a/t1"}
    # t2's clip never reached HQ: known, but not playable.
    t2 = hq.get("/v1/transactions/unit-a/t2").json()
    assert t2["clip"]["stored"] is False and t2["clip"]["url"] is None
    assert [a.action for a in hq.audit("unit-a/t1")].count("transaction_view") >= 1


@pytest.mark.parametrize("path", ["/v1/transactions/unit-a/nope",
                                  "/v1/transactions/unit-b/t1"])
def test_unknown_transaction_is_404(hq: HQ, path: str) -> None:
    r = hq.get(path)
    assert r.status_code == 404 and r.json()["error"] == "not_found"


# ---- clips ----------------------------------------------------------------------------

def test_full_download_is_byte_identical_and_audited_before_sending(hq: HQ) -> None:
    before = len(hq.audit("unit-a/t1"))
    r = hq.get("/v1/clips/unit-a/t1")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert int(r.headers["Content-Length"]) == len(hq.clip) > 1 << 17  # several chunks
    assert hashlib.sha256(r.content).hexdigest() == hashlib.sha256(hq.clip).hexdigest()
    records = hq.audit("unit-a/t1")
    assert len(records) == before + 1
    last = records[-1]
    assert (last.actor, last.role, last.action, last.client) == (
        "sue", "supervisor", "clip_download", "127.0.0.1")
    assert last.detail == f"sent=0-{len(hq.clip) - 1}/{len(hq.clip)}; range=none"


@pytest.mark.parametrize(("range_", "start", "end"), [
    ("bytes=0-99", 0, 99),
    ("bytes=1000-", 1000, None),
    ("bytes=-500", -500, None),
    ("bytes=70000-70000", 70000, 70000),
    ("bytes=100-99999999", 100, None),
])
def test_range_returns_exactly_those_bytes(hq: HQ, range_: str, start: int,
                                           end: int | None) -> None:
    size = len(hq.clip)
    first = size + start if start < 0 else start
    last = size - 1 if end is None else end
    r = hq.get("/v1/clips/unit-a/t1", headers={"Range": range_})
    assert r.status_code == 206
    assert r.content == hq.clip[first:last + 1]
    assert r.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert r.headers["Accept-Ranges"] == "bytes"
    last_audit = hq.audit("unit-a/t1")[-1]
    assert last_audit.action == "clip_play"
    assert last_audit.detail == f"sent={first}-{last}/{size}; range={range_}"


def test_unsatisfiable_range_is_416_and_audited(hq: HQ) -> None:
    size = len(hq.clip)
    r = hq.get("/v1/clips/unit-a/t1", headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{size}"
    assert r.json()["error"] == "range_not_satisfiable"
    assert hq.audit("unit-a/t1")[-1].detail == f"refused=416; range=bytes={size}-"


def test_stale_if_range_gets_the_whole_clip(hq: HQ) -> None:
    r = hq.get("/v1/clips/unit-a/t1", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert r.status_code == 200 and len(r.content) == len(hq.clip)
    etag = r.headers["ETag"]
    same = hq.get("/v1/clips/unit-a/t1", headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status_code == 206 and same.content == hq.clip[:10]


@pytest.mark.parametrize("role", ["admin"])
def test_role_without_permission_is_403_and_the_refusal_is_audited(hq: HQ, role: str) -> None:
    for headers, action in (({}, "clip_download"), ({"Range": "bytes=0-"}, "clip_play")):
        r = hq.get("/v1/clips/unit-a/t1", role=role, headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert r.content[:4] != hq.clip[:4]
        last = hq.audit("unit-a/t1")[-1]
        assert (last.actor, last.role, last.action) == ("root", "admin", action)
        assert last.detail.startswith("refused=403")
    assert hq.get("/v1/transactions", role=role).status_code == 403
    assert hq.get("/v1/transactions/unit-a/t1", role=role).status_code == 403


def test_unauthenticated_clip_request_is_audited_as_anonymous(hq: HQ) -> None:
    r = hq.get("/v1/clips/unit-a/t1", role=None, headers={"Range": "bytes=0-"})
    assert r.status_code == 401
    last = hq.audit("unit-a/t1")[-1]
    assert (last.actor, last.role, last.detail) == (
        "anonymous", "none", "refused=401; range=bytes=0-")


@pytest.mark.parametrize("path", ["/v1/clips/unit-a/nope", "/v1/clips/unit-b/t1",
                                  "/v1/clips/unit-a/..%2F..%2Fetc%2Fpasswd",
                                  "/v1/clips/unit-a/t1.mp4", "/v1/clips/unit-a/%00"])
def test_unknown_or_hostile_clip_ids_are_404(hq: HQ, path: str) -> None:
    r = hq.get(path)
    assert r.status_code == 404


def test_clip_is_not_sent_when_the_audit_log_cannot_be_written(hq: HQ) -> None:
    r = hq.get("/broken/v1/clips/unit-a/t1")
    assert r.status_code == 503 and r.json()["error"] == "audit_unavailable"
    assert hq.clip[:64] not in r.content


# ---- audit log and users --------------------------------------------------------------

@pytest.mark.parametrize(("role", "status"), [("auditor", 200), ("admin", 200),
                                               ("supervisor", 403)])
def test_audit_log_is_for_auditors_and_admins(hq: HQ, role: str, status: int) -> None:
    hq.get("/v1/clips/unit-a/t1", headers={"Range": "bytes=0-0"})
    r = hq.get("/v1/audit", role=role, params={"object_id": "unit-a/t1",
                                                "action": "clip_play", "limit": 1000})
    assert r.status_code == status
    if status == 200:
        rows = r.json()
        assert rows and all(a["object_id"] == "unit-a/t1" for a in rows)
        assert rows[-1]["actor"] == "sue" and rows[-1]["detail"].startswith("sent=0-0/")


def test_admin_creates_users_and_others_cannot(hq: HQ) -> None:
    body = {"username": "new-sup", "password": PW, "role": "supervisor"}
    assert hq.post("/v1/users", body, role="supervisor").status_code == 403
    assert hq.post("/v1/users", body).status_code == 401
    r = hq.post("/v1/users", body, role="admin")
    assert r.status_code == 201 and r.json()["role"] == "supervisor"
    assert hq.post("/v1/users", body, role="admin").status_code == 409
    bad = hq.post("/v1/users", {**body, "username": "x", "role": "root"}, role="admin")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_user"
    login = hq.post("/v1/auth/token", {"username": "new-sup", "password": PW})
    assert login.status_code == 200


def test_openapi_documents_the_routes(hq: HQ) -> None:
    paths = requests.get(hq.url + "/v1/openapi.json", verify=str(hq.ca_pem),
                         timeout=10).json()["paths"]
    assert {"/v1/auth/token", "/v1/transactions", "/v1/transactions/{unit_id}/{txn_id}",
            "/v1/clips/{unit_id}/{clip_id}", "/v1/audit", "/v1/users"} <= set(paths)


def test_browser_like_playback_and_seek_over_tls(hq: HQ) -> None:
    """What a <video> element does: open with ``bytes=0-``, then seek with ``bytes=N-``."""
    with requests.Session() as s:
        s.verify = str(hq.ca_pem)
        s.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace the pinned CA
        s.headers["Authorization"] = f"Bearer {hq.tokens['auditor']}"
        url = hq.url + "/v1/clips/unit-a/t1"
        size = len(hq.clip)
        with s.get(url, headers={"Range": "bytes=0-"}, stream=True, timeout=10) as first:
            assert first.status_code == 206
            assert first.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
            head = first.raw.read(4096)  # a browser reads the moov, then drops the stream
        assert head == hq.clip[:4096]
        seek = size // 2
        second = s.get(url, headers={"Range": f"bytes={seek}-"}, timeout=10)
        assert second.status_code == 206
        assert second.headers["Content-Range"] == f"bytes {seek}-{size - 1}/{size}"
        assert head + hq.clip[4096:seek] + second.content == hq.clip
        whole = s.get(url, headers={"Range": "bytes=0-"}, timeout=10).content
    # The bytes played back are a decodable H.264 video.
    with av.open(io.BytesIO(whole), mode="r") as container:
        decoded = len(list(container.decode(video=0)))
    assert decoded == 12
    plays = [a for a in hq.audit("unit-a/t1") if a.actor == "aud" and a.action == "clip_play"]
    assert [a.detail.split(";")[0] for a in plays[-3:]] == [
        f"sent=0-{size - 1}/{size}", f"sent={seek}-{size - 1}/{size}",
        f"sent=0-{size - 1}/{size}"]
