"""A unit that abandoned 16 uploads can upload again (issue 13 item 4).

The embedded HQ over mutual TLS, tus over HTTP as a unit sends it. Time is moved by the
test (the clip store's clock, and the expiry round's ``now``), never waited for.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from hq.server.embedded import EmbeddedHQ, running_hq
from hq.storage import DEFAULT_MAX_OPEN_UPLOADS, LocalClipStore
from tests.helpers.hq.api import enrolled, tls

TUS = {"Tus-Resumable": "1.0.0"}
DAY = dt.timedelta(hours=24)


@pytest.fixture()
def hq(tmp_path: Any) -> Iterator[EmbeddedHQ]:
    with running_hq(tmp_path) as server:
        yield server


def create(hq: EmbeddedHQ, ident: Any, clip_id: str, data: bytes) -> requests.Response:
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    {"clip_id": clip_id, "sha256": hashlib.sha256(data).hexdigest()}.items())
    return requests.post(f"{hq.url}/v1/uploads", headers={
        **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta}, **tls(hq, ident))


def abandon(hq: EmbeddedHQ, ident: Any, n: int) -> list[str]:
    """n uploads started, one chunk each, never finished."""
    locations = []
    for i in range(n):
        data = os.urandom(2048)
        resp = create(hq, ident, f"lost-{i}", data)
        assert resp.status_code == 201, resp.text
        patch = requests.patch(f"{hq.url}{resp.headers['Location']}", data=data[:1024], headers={
            **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
            **tls(hq, ident))
        assert patch.status_code == 204
        locations.append(resp.headers["Location"])
    return locations


def test_quota_pressure_expires_abandoned_uploads(hq: EmbeddedHQ) -> None:
    ident = enrolled(hq, "unit-abandons")
    abandon(hq, ident, DEFAULT_MAX_OPEN_UPLOADS)
    fresh = os.urandom(4096)
    # A day has not passed: the 16 still count, and the 17th is refused.
    refused = create(hq, ident, "new-clip", fresh)
    assert (refused.status_code, refused.json()["error"]) == (429, "quota_exceeded")
    # A day later without a byte, they are abandoned: the 17th expires them and goes on.
    clips = hq.deps.clips
    clips.clock = lambda: dt.datetime.now(dt.UTC) + DAY + dt.timedelta(minutes=1)
    resp = create(hq, ident, "new-clip", fresh)
    assert resp.status_code == 201, resp.text
    done = requests.patch(f"{hq.url}{resp.headers['Location']}", data=fresh, headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        **tls(hq, ident))
    assert done.status_code == 204
    assert clips.open_clip("new-clip", "unit-abandons").size == len(fresh)


def test_the_schedule_expires_idle_uploads_and_keeps_moving_ones(hq: EmbeddedHQ) -> None:
    ident = enrolled(hq, "unit-schedule")
    lost = abandon(hq, ident, 3)
    assert hq.expiry is not None
    now = dt.datetime.now(dt.UTC)
    assert hq.expiry.tick(now + dt.timedelta(hours=1)) == 0  # not idle for a day yet
    # One of them receives a byte "today" (its partial file is touched at now + 2 days).
    moving = lost[0].rsplit("/", 1)[1]
    later = now + 2 * DAY
    assert isinstance(hq.deps.clips, LocalClipStore)  # this module runs on files
    part = hq.deps.clips.root / "partial" / moving
    os.utime(part, (later.timestamp(), later.timestamp()))
    assert hq.expiry.tick(later + dt.timedelta(minutes=1)) == 2
    gone = requests.head(f"{hq.url}{lost[1]}", headers=TUS, **tls(hq, ident))
    kept = requests.head(f"{hq.url}{lost[0]}", headers=TUS, **tls(hq, ident))
    assert (gone.status_code, kept.status_code) == (404, 200)
    assert kept.headers["Upload-Offset"] == "1024"
