"""HQ on a full disk (issue 13 item 5): a real, small tmpfs holds HQ's data folder.

A chunk that does not fit answers 507 with a clear body, the offset stays at the last
whole chunk (no torn chunk) and HQ raises one disk_full condition for the episode;
events that do not fit answer 503 with Retry-After. Once space is freed the same chunk
goes in and the clip completes byte-exact.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hq.conditions import DISK_FULL
from hq.server.embedded import EmbeddedHQ, running_hq
from tests.helpers.hq.api import enrolled, event, tls

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 64 * 1024


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """A filler file taking all but ``leave`` bytes of the file system."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 65536):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def patch(hq: EmbeddedHQ, ident: Any, location: str, offset: int,
          data: bytes) -> requests.Response:
    return requests.patch(f"{hq.url}{location}", data=data, headers={
        **TUS, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
        **tls(hq, ident))


def test_a_full_disk_answers_507_and_503_and_recovers(small_disk: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    clip = os.urandom(16 * CHUNK)  # 1 MiB
    with running_hq(small_disk) as hq:
        ident = enrolled(hq, "unit-full")
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                        {"clip_id": "clip-full", "sha256": hashlib.sha256(clip).hexdigest()
                         }.items())
        created = requests.post(f"{hq.url}/v1/uploads", headers={
            **TUS, "Upload-Length": str(len(clip)), "Upload-Metadata": meta}, **tls(hq, ident))
        assert created.status_code == 201
        location = created.headers["Location"]
        filler = fill(small_disk, leave=3 * CHUNK + CHUNK // 2)  # room for 3.5 chunks
        offset, answers = 0, []
        for _ in range(6):
            resp = patch(hq, ident, location, offset, clip[offset:offset + CHUNK])
            answers.append(resp.status_code)
            if resp.status_code == 204:
                offset = int(resp.headers["Upload-Offset"])
        assert answers[0] == 204 and answers[-1] == 507, answers
        body = resp.json()
        assert body["error"] == "insufficient_storage" and "disk is full" in body["detail"]
        head = requests.head(f"{hq.url}{location}", headers=TUS, **tls(hq, ident))
        assert int(head.headers["Upload-Offset"]) == offset and offset % CHUNK == 0
        part = hq.root / "data" / "clips" / "partial" / location.rsplit("/", 1)[1]
        assert part.stat().st_size == offset  # no torn chunk on disk
        # Events that need new space: 503 with Retry-After, nothing stored, no 500.
        big = [{**event("unit-full"), "data": {"note": "x" * 8000}} for _ in range(100)]
        ev = requests.post(f"{hq.url}/v1/events", json={"events": big[:20]}, **tls(hq, ident))
        assert ev.status_code == 503 and ev.headers["Retry-After"] == "60", ev.text
        assert hq.deps.conditions.active().keys() == {DISK_FULL}
        raised = [r for r in caplog.records if r.levelname == "ERROR"
                  and "HQ condition disk_full" in r.getMessage()]
        assert len(raised) == 1  # once for the episode, not per refusal
        # Space comes back: the same chunk goes in, the clip completes, the episode ends.
        filler.unlink()
        while offset < len(clip):
            resp = patch(hq, ident, location, offset, clip[offset:offset + CHUNK])
            assert resp.status_code == 204, resp.text
            offset = int(resp.headers["Upload-Offset"])
        stored = hq.deps.clips.open_clip("clip-full", "unit-full")
        assert stored.path is not None and stored.path.read_bytes() == clip
        assert hq.deps.conditions.active() == {}
        audit = hq.deps.audit.query(object_type="hq_condition", object_id=DISK_FULL)
        assert [a.action for a in audit] == ["hq_condition_raised", "hq_condition_cleared"]
        # HQ's alerting got the episode as one thread (its store was full too at the
        # time: the raise was handed over once space came back, then the clear).
        with hq.deps.alert_service().db() as conn:
            threads = conn.execute("SELECT kind, status FROM alert_threads "
                                   "WHERE unit_id = 'hq'").fetchall()
        assert [t["kind"] for t in threads] == [DISK_FULL], [dict(t) for t in threads]
        ok = requests.post(f"{hq.url}/v1/events", json={"events": [event("unit-full")]},
                           **tls(hq, ident))
        assert ok.status_code == 200
