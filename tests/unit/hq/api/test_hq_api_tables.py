"""The HQ API's pure pieces, table first: tus metadata, ETags, body limits, error mapping."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from hq.api.deps import HQLimits
from hq.api.errors import ApiError, classify
from hq.api.middleware import body_limit
from hq.api.units.auth import peer_certificate
from hq.api.units.config import etag_matches
from hq.api.units.uploads import parse_metadata
from hq.pki.ca import CSRRefused, UnitRevoked
from hq.pki.enrollment import CodeReused
from hq.storage import BeyondLength, ChecksumMismatch, ForeignUnit, InvalidInput

LIMITS = HQLimits(max_event_batch=20, max_body_bytes=64 * 1024, max_chunk_bytes=128 * 1024)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(("header", "expected"), [
    (f"clip_id {b64('c1')},sha256 {b64('ab')}", {"clip_id": "c1", "sha256": "ab"}),
    (f" clip_id {b64('c1')} , flag ", {"clip_id": "c1", "flag": ""}),
    ("", {}),
])
def test_parse_metadata_accepts_tus_pairs(header: str, expected: dict[str, str]) -> None:
    assert parse_metadata(header) == expected


@pytest.mark.parametrize("header", [
    "clip_id !!notbase64", f"clip_id {b64('a')},clip_id {b64('b')}",
    "clip_id " + base64.b64encode(b"\xff\xfe").decode()])
def test_parse_metadata_refuses_garbage(header: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_metadata(header)
    assert (info.value.status, info.value.error) == (400, "bad_metadata")


@pytest.mark.parametrize(("header", "matches"), [
    (None, False), ("", False), ('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True),
    ("*", True), ('"abcd"', False), ("abc", False)])
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


@pytest.mark.parametrize(("method", "path", "limit"), [
    ("PATCH", "/v1/uploads/abc", LIMITS.max_chunk_bytes),
    ("POST", "/v1/uploads", LIMITS.max_body_bytes),
    ("POST", "/v1/events", LIMITS.max_body_bytes),
    ("PATCH", "/v1/uploadsX", LIMITS.max_body_bytes)])
def test_body_limit_per_route(method: str, path: str, limit: int) -> None:
    assert body_limit(LIMITS, method, path) == limit


@pytest.mark.parametrize(("exc", "expected"), [
    (InvalidInput("x"), (400, "invalid_input")), (ForeignUnit("x"), (403, "foreign_unit")),
    (BeyondLength("x"), (413, "beyond_length")),
    (ChecksumMismatch("x"), (460, "checksum_mismatch")),
    (UnitRevoked("x"), (403, "unit_revoked")), (CSRRefused("x"), (400, "csr_refused")),
    (CodeReused("x"), (403, "code_reused"))])
def test_domain_errors_map_to_4xx(exc: Exception, expected: tuple[int, str]) -> None:
    assert classify(exc) == expected


@pytest.mark.parametrize("scope", [
    {}, {"extensions": {}}, {"extensions": {"tls": None}},
    {"extensions": {"tls": {"client_cert_chain": []}}}])
def test_no_certificate_in_the_scope_means_no_peer(scope: dict[str, Any]) -> None:
    assert peer_certificate(scope) is None
