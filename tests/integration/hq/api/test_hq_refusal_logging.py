"""Every refusal of HQ's API is logged exactly once, at WARNING, naming who and why.

A real HQ (uvicorn, mutual TLS) on loopback. Storage, enrollment and user checks raise
without logging; the HTTP layer (hq.api.errors, or the body-size guard for requests the
app never sees) writes the one line, since only it knows the client, the unit or user,
and the answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from hq.accounts.users import UserStore
from hq.api.deps import HQLimits
from hq.storage import ForeignUnit
from sync.identity import UnitIdentity
from sync.schema import EventEnvelope
from tests.helpers.hq.server import HQServer, running_hq

TUS = {"Tus-Resumable": "1.0.0"}
LIMITS = HQLimits(max_chunk_bytes=1024)


@dataclass
class World:
    hq: HQServer
    units: dict[str, UnitIdentity]
    token: str
    foreign_upload: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_hq(tmp_path_factory.mktemp("hq-refusals"), LIMITS) as hq:
        units = {u: hq.enrolled_unit(u) for u in ("unit-log-a", "unit-log-b")}
        users = UserStore(hq.deps.config_dir.parent / "users.db")
        users.create_user("sup-log", "a long enough passphrase", "supervisor")
        token = users.issue_token("sup-log").token
        users.close()
        theirs = hq.deps.clips.create("unit-log-b", "clip-of-b", 4, sha256_hex(b"abcd"))
        yield World(hq, units, token, theirs.upload_id)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def metadata(**items: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in items.items())


def as_unit(w: World, unit_id: str, method: str, path: str, **kwargs: Any) -> requests.Response:
    ident = w.units[unit_id]
    return requests.request(method, f"{w.hq.url}{path}", verify=str(w.hq.ca_pem),
                            cert=(str(ident.cert_path), str(ident.key_path)), timeout=10,
                            **kwargs)


def as_user(w: World, method: str, path: str, token: str | None = None,
            **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token if token is not None else w.token}"}
    return requests.request(method, f"{w.hq.url}{path}", verify=str(w.hq.ca_pem),
                            headers=headers, timeout=10, **kwargs)


def event(unit_id: str, uuid_: str | None = None) -> dict[str, Any]:
    return {"uuid": uuid_ or str(uuid.uuid4()), "type": "login", "unit_id": unit_id,
            "counter_id": "counter-1", "utc": dt.datetime.now(dt.UTC).isoformat(),
            "mono": 1.0, "boot_id": "boot", "clock_synced": True,
            "data": {"staff_id": "s-1"}}


def oversize_upload(w: World) -> requests.Response:
    length = w.hq.deps.clips.max_length + 1
    return as_unit(w, "unit-log-a", "POST", "/v1/uploads", headers={
        **TUS, "Upload-Length": str(length),
        "Upload-Metadata": metadata(clip_id="clip-big", sha256=sha256_hex(b"x"))})


def oversize_chunk(w: World) -> requests.Response:
    return as_unit(w, "unit-log-a", "PATCH", f"/v1/uploads/{w.foreign_upload}", headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        data=b"x" * 2048)


def unknown_upload(w: World) -> requests.Response:
    return as_unit(w, "unit-log-a", "HEAD", f"/v1/uploads/{'0' * 32}", headers=TUS)


def foreign_upload(w: World) -> requests.Response:
    return as_unit(w, "unit-log-a", "HEAD", f"/v1/uploads/{w.foreign_upload}", headers=TUS)


def traversal_clip_id(w: World) -> requests.Response:
    return as_unit(w, "unit-log-a", "POST", "/v1/uploads", headers={
        **TUS, "Upload-Length": "4",
        "Upload-Metadata": metadata(clip_id="../../etc/passwd", sha256=sha256_hex(b"abcd"))})


def checksum_mismatch(w: World) -> requests.Response:
    created = as_unit(w, "unit-log-a", "POST", "/v1/uploads", headers={
        **TUS, "Upload-Length": "4",
        "Upload-Metadata": metadata(clip_id="clip-bad-sum", sha256=sha256_hex(b"abcd"))})
    assert created.status_code == 201, created.text
    return as_unit(w, "unit-log-a", "PATCH", created.headers["Location"], headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        data=b"wxyz")


def event_of_another_unit(w: World) -> requests.Response:
    return as_unit(w, "unit-log-a", "POST", "/v1/events",
                   json={"events": [event("unit-log-b")]})


def uuid_of_another_unit(w: World) -> requests.Response:
    taken = str(uuid.uuid4())
    ok = as_unit(w, "unit-log-b", "POST", "/v1/events", json={"events": [event("unit-log-b",
                                                                                 taken)]})
    assert ok.status_code == 200, ok.text
    return as_unit(w, "unit-log-a", "POST", "/v1/events",
                   json={"events": [event("unit-log-a", taken)]})


def malformed_json(w: World) -> requests.Response:
    return as_unit(w, "unit-log-a", "POST", "/v1/events", data=b'{"events": [',
                   headers={"Content-Type": "application/json"})


def unknown_enrollment_code(w: World) -> requests.Response:
    ident = UnitIdentity(w.hq.root / "enrolling")
    ident.generate_key()
    return requests.post(f"{w.hq.url}/v1/enroll", verify=str(w.hq.ca_pem), timeout=10, json={
        "unit_id": "unit-log-new", "code": "ABCD-EFGH-JKMN-PQRS",
        "csr_pem": ident.csr("unit-log-new").decode()})


def user_clip_traversal(w: World) -> requests.Response:
    return as_user(w, "GET", "/v1/clips/unit-log-b/..%5C..%5Cpasswd")


def user_bad_token(w: World) -> requests.Response:
    return as_user(w, "GET", "/v1/transactions", token="not-a-token")


def user_forbidden(w: World) -> requests.Response:
    return as_user(w, "GET", "/v1/audit")


def user_bad_password(w: World) -> requests.Response:
    return requests.post(f"{w.hq.url}/v1/auth/token", verify=str(w.hq.ca_pem), timeout=10,
                         json={"username": "sup-log", "password": "wrong guess entirely"})


# (request, status, error code, what the one log line must name besides the code)
CASES: dict[str, tuple[Callable[[World], requests.Response], int, str, tuple[str, ...]]] = {
    "oversize_upload": (oversize_upload, 413, "upload_too_large", ("unit unit-log-a",)),
    "oversize_chunk": (oversize_chunk, 413, "body_too_large",
                       ("certificate for unit unit-log-a", "1024-byte limit")),
    "unknown_upload": (unknown_upload, 404, "upload_not_found", ("unit unit-log-a",)),
    "foreign_upload": (foreign_upload, 404, "upload_not_found",
                       ("unit unit-log-a", "belongs to unit unit-log-b")),
    "traversal_clip_id": (traversal_clip_id, 400, "invalid_input",
                          ("unit unit-log-a", "../../etc/passwd")),
    "checksum_mismatch": (checksum_mismatch, 460, "checksum_mismatch",
                          ("unit unit-log-a", "discarded")),
    "event_of_another_unit": (event_of_another_unit, 403, "foreign_unit",
                              ("unit unit-log-a", "of unit unit-log-b")),
    "uuid_of_another_unit": (uuid_of_another_unit, 409, "uuid_taken",
                             ("unit unit-log-a", "already stored for another unit")),
    "malformed_json": (malformed_json, 400, "malformed_json", ("unit unit-log-a",)),
    "unknown_enrollment_code": (unknown_enrollment_code, 403, "code_unknown",
                                ("127.0.0.1:", "enrolling as unit 'unit-log-new'")),
    "user_clip_traversal": (user_clip_traversal, 404, "not_found",
                            ("user sup-log at 127.0.0.1:", "clip id")),
    "user_bad_token": (user_bad_token, 401, "unauthenticated", ("anonymous 127.0.0.1:",)),
    "user_forbidden": (user_forbidden, 403, "forbidden",
                       ("user sup-log at 127.0.0.1:", "may not")),
    "user_bad_password": (user_bad_password, 401, "bad_credentials",
                          ("anonymous 127.0.0.1:", "login as 'sup-log'")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_refusal_is_logged_once_naming_the_caller_and_the_reason(
        world: World, case: str, caplog: pytest.LogCaptureFixture) -> None:
    send, status, error, names = CASES[case]
    caplog.set_level(logging.WARNING)
    caplog.clear()
    resp = send(world)
    assert resp.status_code == status, resp.text
    if resp.request.method != "HEAD":
        assert resp.json()["error"] == error
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [f"{r.name}: {r.getMessage()}" for r in warnings]
    line = warnings[0].getMessage()
    assert warnings[0].levelno == logging.WARNING and warnings[0].name.startswith("hq.api")
    assert f": {status} {error}" in line, line
    for name in names:
        assert name in line, (name, line)


def test_the_client_does_not_learn_whose_upload_it_probed(world: World) -> None:
    resp = as_unit(world, "unit-log-a", "PATCH", f"/v1/uploads/{world.foreign_upload}",
                   headers={**TUS, "Upload-Offset": "0",
                            "Content-Type": "application/offset+octet-stream"}, data=b"ab")
    assert resp.status_code == 404 and "unit-log-b" not in resp.text


def test_the_storage_layer_refuses_silently(world: World,
                                            caplog: pytest.LogCaptureFixture) -> None:
    # Called directly (no HTTP layer), a refused event batch leaves no log record at all:
    # whoever calls the store decides whether and how a refusal is reported.
    caplog.set_level(logging.DEBUG, logger="hq.storage")
    with pytest.raises(ForeignUnit, match="may not send"):
        world.hq.deps.events.ingest("unit-log-a",
                                    [EventEnvelope.model_validate(event("unit-log-b"))])
    with pytest.raises(ForeignUnit, match="belongs to unit unit-log-b"):
        world.hq.deps.clips.offset(world.foreign_upload, "unit-log-a")
    assert not [r for r in caplog.records if r.name.startswith("hq.storage")]
