"""HQ users reading clips over real TLS on loopback: full downloads, Range, audited reads.

Every read (or refused read) of a clip is audited before a byte is sent; a browser-like
client plays and seeks a real H.264 clip. The server, its users, transactions t1-t3 and
t1's clip come from tests/helpers/hq/users.py.
"""

from __future__ import annotations

import hashlib
import io

import av
import pytest
import requests

from tests.helpers.hq.api import hq_fixture
from tests.helpers.hq.users import HQ, users_hq

hq = hq_fixture(users_hq, clip_stores=True)


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
        "sue", "hall_supervisor", "clip_download", "127.0.0.1")
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


@pytest.mark.parametrize("role", ["viewer"])  # figures only; admin may do everything
def test_role_without_permission_is_403_and_the_refusal_is_audited(hq: HQ, role: str) -> None:
    for headers, action in (({}, "clip_download"), ({"Range": "bytes=0-"}, "clip_play")):
        r = hq.get("/v1/clips/unit-a/t1", role=role, headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert r.content[:4] != hq.clip[:4]
        last = hq.audit("unit-a/t1")[-1]
        assert (last.actor, last.role, last.action) == ("val", "viewer", action)
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
