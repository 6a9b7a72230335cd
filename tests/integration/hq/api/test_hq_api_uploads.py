"""HQ's tus upload endpoints over real mutual TLS on loopback: chunks, resume, refusals.

This module runs its own embedded HQ (port 0, small limits: tests/helpers/hq/api.py);
every test uses its own unit ids and clip ids.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import uuid

import pytest
import requests

from sync.identity import UnitIdentity
from tests.helpers.hq.api import HQ, LIMITS, MAX_CLIP, TUS, enrolled, hq_fixture, raw_request, tls

hq = hq_fixture(clip_stores=True)


# ---- helpers -------------------------------------------------------------------------------

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


# ---- uploads -------------------------------------------------------------------------------

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
    # As stored (a file, or the S3 object through a ranged GET): byte for byte.
    assert b"".join(hq.deps.clips.read_range(clip, 0, clip.size - 1)) == data


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
