"""HQ's unit-facing API over real mutual TLS on loopback: enroll, events, config, the document.

tus uploads are in test_hq_api_uploads.py. This module runs its own embedded HQ (port 0,
small limits: tests/helpers/hq/api.py); every test uses its own unit ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import logging
import ssl
import uuid
from typing import Any

import pytest
import requests

from hq.api.app import OPENAPI_URL
from hq.api.units.config import etag_of
from hq.pki.enrollment import generate_code
from hq.storage.scope import Scope
from tests.helpers.hq.api import HQ, LIMITS, enrolled, event, hq_fixture, identity, raw_request, tls

ALL = Scope.everything()  # these tests are about storage, not scope

hq = hq_fixture(backends=True)


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
    assert (reply.status, json.loads(reply.read())) == (200, {"accepted": 1, "duplicates": 0,
                                                          "rejected": []})
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
    assert first.json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    assert again.json() == {"accepted": 0, "duplicates": 5, "rejected": []}


def test_an_event_of_another_unit_refuses_the_whole_batch(hq: HQ) -> None:
    ident = enrolled(hq, "unit-ev-2")
    own = event("unit-ev-2", txn_id="txn-own")
    resp = requests.post(f"{hq.url}/v1/events", json={"events": [own, event("unit-ev-victim")]},
                         **tls(hq, ident))
    assert (resp.status_code, resp.json()["error"]) == (403, "foreign_unit")
    assert hq.deps.events.transaction("txn-own", "unit-ev-2", ALL) is None
    resend = requests.post(f"{hq.url}/v1/events", json={"events": [own]}, **tls(hq, ident))
    assert resend.json() == {"accepted": 1, "duplicates": 0, "rejected": []}


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
    (b'{"events": ["not an object"]}', 422, "invalid_request"),
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
