"""HQ's unit-facing API over real mutual TLS on loopback: enroll, events, tus uploads, config.

One uvicorn server per module (port 0) runs ``create_app`` on a fresh HQ data folder with
small limits, so oversize cases stay cheap; every test uses its own unit ids.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import json
import logging
import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hq.api.app import OPENAPI_URL
from hq.api.deps import HQLimits
from hq.api.units import etag_of
from hq.embedded import EmbeddedHQ, running_hq
from hq.enrollment import generate_code
from sync.identity import UnitIdentity

LIMITS = HQLimits(max_event_batch=20, max_body_bytes=64 * 1024, max_chunk_bytes=128 * 1024)
MAX_CLIP = 4 * 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


HQ = EmbeddedHQ


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQ]:
    with running_hq(tmp_path_factory.mktemp("hq"), LIMITS) as server:
        server.deps.clips.max_length = MAX_CLIP
        yield server


# ---- helpers -------------------------------------------------------------------------------

def identity(hq: HQ, unit_id: str) -> UnitIdentity:
    ident = UnitIdentity(hq.root / "units" / unit_id)
    ident.generate_key()
    return ident


def enrolled(hq: HQ, unit_id: str) -> UnitIdentity:
    """A unit certified directly by the CA (enrollment itself is tested separately)."""
    ident = identity(hq, unit_id)
    ident.install(hq.deps.ca.sign_unit_csr(ident.csr(unit_id), unit_id), hq.deps.ca.cert_pem)
    return ident


def tls(hq: HQ, ident: UnitIdentity | None) -> dict[str, Any]:
    """requests arguments: pin HQ's CA, present the unit's certificate if any."""
    args: dict[str, Any] = {"verify": str(hq.ca_pem), "timeout": 10}
    if ident is not None:
        args["cert"] = (str(ident.cert_path), str(ident.key_path))
    return args


def event(unit_id: str, txn_id: str | None = None) -> dict[str, Any]:
    return {"uuid": uuid.uuid4().hex, "type": "transaction_started", "unit_id": unit_id,
            "counter_id": "c1", "utc": "2026-11-22T10:00:00Z", "mono": 12.5, "boot_id": "b1",
            "clock_synced": True, "data": {"txn_id": txn_id or uuid.uuid4().hex}}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def create_upload(hq: HQ, ident: UnitIdentity, clip_id: str, data: bytes,
                  sha256: str | None = None) -> requests.Response:
    digest = sha256 or hashlib.sha256(data).hexdigest()
    return requests.post(f"{hq.url}/v1/uploads", headers={
        **TUS, "Upload-Length": str(len(data)),
        "Upload-Metadata": f"clip_id {b64(clip_id)},sha256 {b64(digest)}"}, **tls(hq, ident))


def patch(hq: HQ, ident: UnitIdentity, location: str, offset: int,
          chunk: bytes) -> requests.Response:
    return requests.patch(f"{hq.url}{location}", data=chunk, headers={
        **TUS, "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream"}, **tls(hq, ident))


def head(hq: HQ, ident: UnitIdentity, location: str) -> requests.Response:
    return requests.head(f"{hq.url}{location}", headers=TUS, **tls(hq, ident))


def clip_bytes(n: int, seed: int = 0) -> bytes:
    return bytes((i * 31 + seed) % 251 for i in range(n))


def raw_request(hq: HQ, context: ssl.SSLContext, method: str, path: str,
                headers: dict[str, str], body: bytes = b"",
                chunked: bool = False) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPSConnection("localhost", hq.port, context=context, timeout=10)
    try:
        conn.putrequest(method, path)
        for k, v in headers.items():
            conn.putheader(k, v)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for i in range(0, len(body), 8192):
                piece = body[i:i + 8192]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


# ---- enrollment -------------------------------------------------------------------------------

def test_enroll_with_a_one_time_code_then_use_the_issued_certificate(hq: HQ) -> None:
    code = hq.deps.codes.issue("unit-enr-1", dt.timedelta(hours=1))
    ident = identity(hq, "unit-enr-1")
    resp = requests.post(f"{hq.url}/v1/enroll", json={
        "unit_id": "unit-enr-1", "code": code.lower(), "csr_pem": ident.csr("unit-enr-1").decode()},
        **tls(hq, None))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    ident.install(body["cert_pem"].encode(), body["ca_pem"].encode())
    conn = http.client.HTTPSConnection("localhost", hq.port,
                                       context=ident.client_ssl_context(), timeout=10)
    conn.request("POST", "/v1/events", body=json.dumps({"events": [event("unit-enr-1")]}),
                 headers={"Content-Type": "application/json"})
    reply = conn.getresponse()
    assert (reply.status, json.loads(reply.read())) == (200, {"accepted": 1, "duplicates": 0})
    conn.close()


@pytest.mark.parametrize(("case", "status", "error"), [
    ("reused", 403, "code_reused"), ("wrong_unit", 403, "code_wrong_unit"),
    ("malformed", 400, "code_malformed"), ("unknown", 403, "code_unknown"),
    ("expired", 403, "code_expired"), ("csr_for_another_unit", 400, "csr_refused"),
    ("extra_field", 422, "invalid_request")])
def test_enroll_refusals(hq: HQ, case: str, status: int, error: str) -> None:
    unit_id = f"unit-ref-{case.replace('_', '-')}"
    ident = identity(hq, unit_id)
    issued_at = dt.datetime.now(dt.UTC) - (dt.timedelta(hours=2) if case == "expired"
                                           else dt.timedelta(0))
    code = hq.deps.codes.issue("unit-somebody-else" if case == "wrong_unit" else unit_id,
                               dt.timedelta(hours=1), now=issued_at)
    body: dict[str, Any] = {"unit_id": unit_id, "code": code,
                            "csr_pem": ident.csr(unit_id).decode()}
    if case == "reused":
        first = requests.post(f"{hq.url}/v1/enroll", json=body, **tls(hq, None))
        assert first.status_code == 200
    elif case == "malformed":
        body["code"] = "not-a-code"
    elif case == "unknown":
        body["code"] = generate_code()
    elif case == "csr_for_another_unit":
        body["csr_pem"] = ident.csr("unit-victim").decode()
    elif case == "extra_field":
        body["role"] = "admin"
    resp = requests.post(f"{hq.url}/v1/enroll", json=body, **tls(hq, None))
    assert (resp.status_code, resp.json()["error"]) == (status, error), resp.text
    assert resp.json()["detail"]


def test_garbage_csr_is_refused_and_the_code_stays_usable(hq: HQ) -> None:
    code = hq.deps.codes.issue("unit-garbage", dt.timedelta(hours=1))
    ident = identity(hq, "unit-garbage")
    bad = requests.post(f"{hq.url}/v1/enroll", json={
        "unit_id": "unit-garbage", "code": code,
        "csr_pem": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"},
        **tls(hq, None))
    assert (bad.status_code, bad.json()["error"]) == (400, "csr_refused")
    good = requests.post(f"{hq.url}/v1/enroll", json={
        "unit_id": "unit-garbage", "code": code, "csr_pem": ident.csr("unit-garbage").decode()},
        **tls(hq, None))
    assert good.status_code == 200, good.text


# ---- events -----------------------------------------------------------------------------------

def test_events_ingest_is_idempotent(hq: HQ) -> None:
    ident = enrolled(hq, "unit-ev-1")
    batch = {"events": [event("unit-ev-1") for _ in range(5)]}
    first = requests.post(f"{hq.url}/v1/events", json=batch, **tls(hq, ident))
    again = requests.post(f"{hq.url}/v1/events", json=batch, **tls(hq, ident))
    assert first.json() == {"accepted": 5, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 5}


def test_an_event_of_another_unit_refuses_the_whole_batch(hq: HQ) -> None:
    ident = enrolled(hq, "unit-ev-2")
    own = event("unit-ev-2", txn_id="txn-own")
    resp = requests.post(f"{hq.url}/v1/events", json={"events": [own, event("unit-ev-victim")]},
                         **tls(hq, ident))
    assert (resp.status_code, resp.json()["error"]) == (403, "foreign_unit")
    assert hq.deps.events.transaction("txn-own", "unit-ev-2") is None
    resend = requests.post(f"{hq.url}/v1/events", json={"events": [own]}, **tls(hq, ident))
    assert resend.json() == {"accepted": 1, "duplicates": 0}


def test_no_client_certificate_is_401(hq: HQ) -> None:
    context = ssl.create_default_context(cafile=str(hq.ca_pem))
    body = json.dumps({"events": [event("unit-anon")]}).encode()
    status, reply = raw_request(hq, context, "POST", "/v1/events",
                                {"Content-Type": "application/json"}, body)
    assert (status, reply["error"]) == (401, "not_a_unit")


def test_revoked_unit_is_403_and_logged_once(hq: HQ, caplog: pytest.LogCaptureFixture) -> None:
    ident = enrolled(hq, "unit-revoked")
    hq.deps.ca.revoke_unit("unit-revoked", "stolen")
    caplog.set_level(logging.WARNING, logger="hq.api")
    resp = requests.post(f"{hq.url}/v1/events", json={"events": [event("unit-revoked")]},
                         **tls(hq, ident))
    assert (resp.status_code, resp.json()["error"]) == (403, "unit_revoked")
    refusals = [r.getMessage() for r in caplog.records if r.name.startswith("hq.api")]
    assert len(refusals) == 1
    assert "unit unit-revoked" in refusals[0] and "403 unit_revoked" in refusals[0]


@pytest.mark.parametrize(("body", "status", "error"), [
    (b'{"events": [', 400, "malformed_json"),
    (b"\xff\xfe garbage", 400, "malformed_json"),
    (b'{"evts": []}', 422, "invalid_request"),
    (b'{"events": [{"uuid": "short"}]}', 422, "invalid_request"),
    (b"[]", 422, "invalid_request"),
    (json.dumps({"events": [event("unit-ev-3") for _ in range(LIMITS.max_event_batch + 1)]}
                ).encode(), 413, "batch_too_large"),
])
def test_malformed_event_bodies_are_4xx(hq: HQ, body: bytes, status: int, error: str) -> None:
    ident = enrolled(hq, f"unit-ev-bad-{uuid.uuid4().hex[:8]}")
    resp = requests.post(f"{hq.url}/v1/events", data=body,
                         headers={"Content-Type": "application/json"}, **tls(hq, ident))
    assert (resp.status_code, resp.json()["error"]) == (status, error), resp.text


def test_oversize_body_is_413_before_it_is_read(hq: HQ) -> None:
    ident = enrolled(hq, "unit-big-1")
    # Only the headers go out: HQ must answer from Content-Length alone.
    status, reply = raw_request(hq, ident.client_ssl_context(), "POST", "/v1/events", {
        "Content-Type": "application/json",
        "Content-Length": str(LIMITS.max_body_bytes + 1)})
    assert (status, reply["error"]) == (413, "body_too_large")


def test_oversize_chunked_body_is_413(hq: HQ) -> None:
    ident = enrolled(hq, "unit-big-2")
    body = json.dumps({"events": [], "pad": "x" * LIMITS.max_body_bytes}).encode()
    status, reply = raw_request(hq, ident.client_ssl_context(), "POST", "/v1/events",
                                {"Content-Type": "application/json"}, body, chunked=True)
    assert (status, reply["error"]) == (413, "body_too_large")


# ---- tus uploads ------------------------------------------------------------------------------

def test_options_advertises_tus(hq: HQ) -> None:
    resp = requests.options(f"{hq.url}/v1/uploads", **tls(hq, None))
    assert resp.status_code == 204
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert resp.headers["Tus-Resumable"] == "1.0.0"
    assert int(resp.headers["Tus-Max-Size"]) == MAX_CLIP


def test_upload_in_chunks_stores_the_exact_clip(hq: HQ) -> None:
    ident = enrolled(hq, "unit-up-1")
    data = clip_bytes(300_000)
    created = create_upload(hq, ident, "clip-a", data)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    assert location.startswith("/v1/uploads/") and created.headers["Upload-Offset"] == "0"
    responses = [created]
    offset, step = 0, 100_000
    while offset < len(data):
        state = head(hq, ident, location)
        assert state.status_code == 200 and state.headers["Cache-Control"] == "no-store"
        assert (int(state.headers["Upload-Offset"]), int(state.headers["Upload-Length"])) == (
            offset, len(data))
        resp = patch(hq, ident, location, offset, data[offset:offset + step])
        assert resp.status_code == 204, resp.text
        offset = int(resp.headers["Upload-Offset"])
        responses += [state, resp]
    assert all(r.headers.get("Tus-Resumable") == "1.0.0" for r in responses)
    clip = hq.deps.clips.open_clip("clip-a", "unit-up-1")
    assert clip.sha256 == hashlib.sha256(data).hexdigest()
    assert clip.path is not None and clip.path.read_bytes() == data


def test_resume_after_a_dropped_connection(hq: HQ) -> None:
    ident = enrolled(hq, "unit-up-2")
    data = clip_bytes(200_000, seed=3)
    location = create_upload(hq, ident, "clip-b", data).headers["Location"]
    assert patch(hq, ident, location, 0, data[:80_000]).status_code == 204
    # Half of the next chunk goes out, then the connection dies.
    conn = http.client.HTTPSConnection("localhost", hq.port,
                                       context=ident.client_ssl_context(), timeout=10)
    conn.putrequest("PATCH", location)
    for k, v in {**TUS, "Upload-Offset": "80000", "Content-Length": "80000",
                 "Content-Type": "application/offset+octet-stream"}.items():
        conn.putheader(k, v)
    conn.endheaders()
    conn.send(data[80_000:120_000])
    conn.close()
    offset = int(head(hq, ident, location).headers["Upload-Offset"])
    assert offset == 80_000
    while offset < len(data):
        resp = patch(hq, ident, location, offset, data[offset:offset + 80_000])
        assert resp.status_code == 204, resp.text
        offset = int(resp.headers["Upload-Offset"])
    assert hq.deps.clips.open_clip("clip-b", "unit-up-2").sha256 == hashlib.sha256(
        data).hexdigest()


def test_wrong_offset_is_409_with_the_expected_offset(hq: HQ) -> None:
    ident = enrolled(hq, "unit-up-3")
    data = clip_bytes(50_000)
    location = create_upload(hq, ident, "clip-c", data).headers["Location"]
    assert patch(hq, ident, location, 0, data[:10_000]).status_code == 204
    resp = patch(hq, ident, location, 20_000, data[20_000:30_000])
    assert (resp.status_code, resp.json()["error"]) == (409, "offset_conflict")
    assert resp.headers["Upload-Offset"] == "10000"
    assert resp.headers["Tus-Resumable"] == "1.0.0"


def test_checksum_mismatch_is_460_and_a_fresh_upload_works(hq: HQ) -> None:
    ident = enrolled(hq, "unit-up-4")
    data = clip_bytes(40_000)
    location = create_upload(hq, ident, "clip-d", data).headers["Location"]
    corrupt = data[:-1] + bytes([data[-1] ^ 0xFF])
    resp = patch(hq, ident, location, 0, corrupt)
    assert (resp.status_code, resp.json()["error"]) == (460, "checksum_mismatch")
    assert head(hq, ident, location).status_code == 404  # the bad bytes are gone
    fresh = create_upload(hq, ident, "clip-d", data)
    assert fresh.headers["Location"] != location and fresh.headers["Upload-Offset"] == "0"
    assert patch(hq, ident, fresh.headers["Location"], 0, data).status_code == 204
    assert hq.deps.clips.open_clip("clip-d", "unit-up-4").size == len(data)


def test_a_clip_hq_already_has_needs_no_bytes(hq: HQ) -> None:
    ident = enrolled(hq, "unit-up-5")
    data = clip_bytes(30_000)
    location = create_upload(hq, ident, "clip-e", data).headers["Location"]
    assert patch(hq, ident, location, 0, data).status_code == 204
    again = create_upload(hq, ident, "clip-e", data)
    assert again.status_code == 201
    assert again.headers["Upload-Offset"] == again.headers["Upload-Length"] == str(len(data))


def test_another_units_upload_is_404(hq: HQ) -> None:
    owner, intruder = enrolled(hq, "unit-up-6"), enrolled(hq, "unit-up-7")
    data = clip_bytes(20_000)
    location = create_upload(hq, owner, "clip-f", data).headers["Location"]
    peek = head(hq, intruder, location)
    write = patch(hq, intruder, location, 0, data)
    missing = patch(hq, intruder, "/v1/uploads/0123456789abcdef", 0, data)
    assert peek.status_code == write.status_code == missing.status_code == 404
    assert write.json() == {"error": "upload_not_found",
                            "detail": f"no upload {location.rsplit('/', 1)[1]!r}"}
    assert head(hq, owner, location).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize(("headers", "status", "error"), [
    ({"Upload-Metadata": f"clip_id {b64('../../etc/passwd')},sha256 {b64('0' * 64)}"},
     400, "invalid_input"),
    ({"Upload-Metadata": f"clip_id {b64('clip-x')}"}, 400, "bad_metadata"),
    ({"Upload-Metadata": f"clip_id {b64('clip-x')},sha256 {b64('NOT-HEX')}"},
     400, "invalid_input"),
    ({"Upload-Length": str(MAX_CLIP + 1)}, 413, "upload_too_large"),
    ({"Upload-Length": "-5"}, 400, "bad_header"),
    ({"Upload-Length": ""}, 400, "bad_header"),
    ({"Tus-Resumable": "0.2.2"}, 412, "tus_version"),
])
def test_bad_upload_creation_is_4xx(hq: HQ, headers: dict[str, str], status: int,
                                    error: str) -> None:
    ident = enrolled(hq, f"unit-cr-{uuid.uuid4().hex[:8]}")
    sent = {**TUS, "Upload-Length": "100",
            "Upload-Metadata": f"clip_id {b64('clip-x')},sha256 {b64('0' * 64)}", **headers}
    resp = requests.post(f"{hq.url}/v1/uploads", headers=sent, **tls(hq, ident))
    assert (resp.status_code, resp.json()["error"]) == (status, error), resp.text
    assert resp.headers["Tus-Resumable"] == "1.0.0"


def test_patch_needs_the_offset_content_type_and_a_small_chunk(hq: HQ) -> None:
    ident = enrolled(hq, "unit-up-8")
    data = clip_bytes(LIMITS.max_chunk_bytes + 10)
    location = create_upload(hq, ident, "clip-g", data).headers["Location"]
    wrong_type = requests.patch(f"{hq.url}{location}", data=data[:10], headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/json"}, **tls(hq, ident))
    assert (wrong_type.status_code, wrong_type.json()["error"]) == (415, "bad_content_type")
    status, reply = raw_request(hq, ident.client_ssl_context(), "PATCH", location, {
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(len(data))})
    assert (status, reply["error"]) == (413, "body_too_large")
    status, reply = raw_request(hq, ident.client_ssl_context(), "PATCH", location, {
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        data, chunked=True)
    assert (status, reply["error"]) == (413, "body_too_large")
    assert head(hq, ident, location).headers["Upload-Offset"] == "0"


# ---- config -----------------------------------------------------------------------------------

def test_config_has_a_strong_etag_and_answers_304(hq: HQ) -> None:
    ident = enrolled(hq, "unit-cfg-1")
    url = f"{hq.url}/v1/config"
    none = requests.get(url, **tls(hq, ident))
    assert (none.status_code, none.json()["error"]) == (404, "no_config")
    default = b'{"roster": [], "rules": {"max_wait_s": 300}}'
    (hq.deps.config_dir / "default.json").write_bytes(default)
    first = requests.get(url, **tls(hq, ident))
    assert first.status_code == 200 and first.content == default
    assert first.headers["ETag"] == etag_of(default) == f'"{hashlib.sha256(default).hexdigest()}"'
    cached = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, **tls(hq, ident))
    assert cached.status_code == 304 and cached.content == b""
    own = b'{"roster": ["S-1"]}'
    (hq.deps.config_dir / "unit-cfg-1.json").write_bytes(own)
    changed = requests.get(url, headers={"If-None-Match": first.headers["ETag"]},
                           **tls(hq, ident))
    assert changed.status_code == 200 and changed.content == own


@pytest.mark.parametrize(("method", "path", "status", "error"), [
    ("GET", "/v1/nothing-here", 404, "not_found"), ("GET", "/v1/events", 405,
                                                    "method_not_allowed"),
    ("DELETE", "/v1/uploads/abc", 405, "method_not_allowed")])
def test_unknown_routes_answer_in_the_error_shape(hq: HQ, method: str, path: str, status: int,
                                                 error: str) -> None:
    resp = requests.request(method, f"{hq.url}{path}", **tls(hq, None))
    assert (resp.status_code, resp.json()["error"]) == (status, error)


# ---- the document -----------------------------------------------------------------------------

def test_openapi_document_lists_the_unit_paths(hq: HQ) -> None:
    doc = requests.get(f"{hq.url}{OPENAPI_URL}", **tls(hq, None)).json()
    assert doc["info"]["title"] == "counterunit HQ"
    paths = doc["paths"]
    assert {"post"} <= set(paths["/v1/enroll"]) and {"post"} <= set(paths["/v1/events"])
    assert {"options", "post"} <= set(paths["/v1/uploads"])
    assert {"head", "patch"} <= set(paths["/v1/uploads/{upload_id}"])
    assert "get" in paths["/v1/config"]
    assert all(p.startswith("/v1/") for p in paths)
