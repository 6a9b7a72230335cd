"""HQ serving from an S3 clip store (hq.toml ``[clips] type = "s3"``) while the store goes
away and comes back: uploads pause with 503 + Retry-After, events still land, playback
answers 503, and the unit's upload resumes and completes once the store is back.

A real embedded HQ (uvicorn, mutual TLS, loopback) on SQLite with its clips in a bucket
of the session's moto server; a real unit client (sync/hq_client.py) and a user token.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage.s3.store import S3ClipStore
from hq.storage.scope import Scope
from sync.hq_client import HQClient, HQUnavailable
from tests.helpers.hq.api import TUS, enrolled, tls
from tests.helpers.hq.users import PW, ev
from tests.servers.s3 import S3Server
from tests.servers.s3_fixtures import with_s3_clips

pytestmark = pytest.mark.s3

MIB = 1024 * 1024
UNIT = "unit-f1"


@pytest.fixture
def hq(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedHQ]:
    with_s3_clips(request, tmp_path / "data")  # hq.toml: [clips] only, SQLite tables
    with running_hq(tmp_path) as server:
        yield server


def user_get(hq: EmbeddedHQ, token: str, path: str, **headers: str) -> requests.Response:
    return requests.get(hq.url + path, headers={"Authorization": f"Bearer {token}", **headers},
                        verify=str(hq.ca_pem), timeout=10)


def write_clip(folder: Path, name: str, size: int, seed: int) -> tuple[Path, bytes, str]:
    payload = random.Random(seed).randbytes(size)
    path = folder / name
    path.write_bytes(payload)
    return path, payload, hashlib.sha256(payload).hexdigest()


def test_hq_on_s3_uploads_and_plays_back(hq: EmbeddedHQ, s3: S3Server, tmp_path: Path) -> None:
    assert isinstance(hq.deps.clips, S3ClipStore)  # hq.toml chose the store
    unit = HQClient.from_identity(hq.url, enrolled(hq, UNIT))
    path, payload, sha = write_clip(tmp_path, "a.mp4", 6 * MIB + 11, seed=1)
    result = unit.upload_clip("clip-a", path, len(payload), sha, chunk_bytes=2 * MIB)
    assert (result.resumed_from, result.sent_bytes) == (0, len(payload))
    keys = [o["Key"] for o in s3.client().list_objects_v2(
        Bucket=hq.deps.clips.bucket)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith(f"clips/{UNIT}/clip-a/")  # one object
    token = user_token(hq)
    r = user_get(hq, token, f"/v1/clips/{UNIT}/clip-a")
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha
    r = user_get(hq, token, f"/v1/clips/{UNIT}/clip-a", Range="bytes=5242870-5242889")
    assert r.status_code == 206 and r.content == payload[5242870:5242890]
    assert r.headers["Content-Range"] == f"bytes 5242870-5242889/{len(payload)}"


def user_token(hq: EmbeddedHQ) -> str:
    users = hq.deps.user_store()
    users.create_user("sue", PW, "hall_supervisor", scope=Scope.everything())
    return users.issue_token("sue").token


def patch(hq: EmbeddedHQ, ident: Any, location: str, offset: int,
          chunk: bytes) -> requests.Response:
    return requests.patch(f"{hq.url}{location}", data=chunk, headers={
        **TUS, "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream"}, **tls(hq, ident))


def test_store_down_pauses_uploads_not_events_then_the_upload_completes(
        hq: EmbeddedHQ, s3: S3Server, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    ident = enrolled(hq, UNIT)
    unit = HQClient.from_identity(hq.url, ident)
    token = user_token(hq)
    kept_path, kept, kept_sha = write_clip(tmp_path, "kept.mp4", 200_000, seed=2)
    unit.upload_clip("kept", kept_path, len(kept), kept_sha)
    path, payload, sha = write_clip(tmp_path, "b.mp4", 6 * MIB + 3, seed=3)
    created = requests.post(f"{hq.url}/v1/uploads", headers={
        **TUS, "Upload-Length": str(len(payload)),
        "Upload-Metadata": f"clip_id {_b64('clip-b')},sha256 {_b64(sha)}"}, **tls(hq, ident))
    assert created.status_code == 201
    location = created.headers["Location"]
    first = 4 * MIB
    assert patch(hq, ident, location, 0, payload[:first]).status_code == 204

    caplog.set_level(logging.INFO, logger="hq.storage.s3.client")
    s3.stop()
    for _ in range(2):  # the chunk that completes the clip needs the store
        r = patch(hq, ident, location, first, payload[first:])
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "clip_store_unavailable"
        assert int(r.headers["Retry-After"]) > 0
    state = requests.head(f"{hq.url}{location}", headers=TUS, **tls(hq, ident))
    assert (state.status_code, int(state.headers["Upload-Offset"])) == (200, first)
    r = user_get(hq, token, f"/v1/clips/{UNIT}/kept", Range="bytes=0-99")
    assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0
    # Events do not need the clip store: they land.
    batch = [ev("transaction_started", UNIT, 0, "c1", txn_id="t-b", staff_id="s1",
                session_id="x1", clip_id="clip-b")]
    assert unit.send_events(batch).accepted == 1
    # The unit's own uploader pauses (HQ unavailable) and keeps its offset.
    with pytest.raises(HQUnavailable):
        unit.upload_clip("clip-b", path, len(payload), sha)

    s3.start()
    result = unit.upload_clip("clip-b", path, len(payload), sha)
    assert (result.resumed_from, result.sent_bytes) == (first, len(payload) - first)
    stored = hq.deps.clips.open_clip("clip-b", UNIT)
    assert (stored.size, stored.sha256) == (len(payload), sha)
    r = user_get(hq, token, f"/v1/clips/{UNIT}/clip-b")
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha
    r = user_get(hq, token, f"/v1/clips/{UNIT}/kept", Range="bytes=0-99")
    assert r.status_code == 206 and r.content == kept[:100]
    failing = [r for r in caplog.records if "failing" in r.getMessage()]
    back = [r for r in caplog.records if "reachable again" in r.getMessage()]
    assert (len(failing), len(back)) == (1, 1)  # once each way, however many requests


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()
