"""A simulated counter unit for HQ page tests: real enrollment, real mutual-TLS API calls.

It enrolls with a one-time code as an installer would, then posts event envelopes and
uploads clips over tus with its own certificate, exactly the path a unit's sync process
takes (sync.enroll, sync.hq_client), so what the pages show has come through HQ's ingest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from hq.pki.enrollment import issue_for_window
from hq.server.embedded import EmbeddedHQ
from sync.enroll import enroll
from sync.hq_client import HQClient
from sync.identity import UnitIdentity
from sync.schema import EventEnvelope


def clip_mp4(path: Path, seconds: float = 4.0, fps: int = 10, seed: int = 1) -> str:
    """A fragmented H.264 MP4 like the unit's (moving noise, so it is not tiny); its sha256."""
    rng = np.random.default_rng(seed)
    opts = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
    with av.open(str(path), "w", options=opts) as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for _ in range(int(seconds * fps)):
            img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class SimUnit:
    """One enrolled unit; ``clock`` is its idea of now (UTC), moved by the test."""

    unit_id: str
    counter_id: str
    client: HQClient
    workdir: Path
    boot_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    mono: float = 0.0
    clips: dict[str, str] = field(default_factory=dict)  # clip_id -> sha256

    @classmethod
    def enroll(cls, hq: EmbeddedHQ, unit_id: str, counter_id: str, workdir: Path,
               window_id: str) -> SimUnit:
        """Issue a code for ``window_id`` at HQ and redeem it over HTTPS, as an installer
        would: the unit's events are filed under that window from the first one."""
        code = issue_for_window(hq.deps.codes, hq.deps.org, unit_id, window_id,
                                dt.timedelta(hours=1))
        identity = UnitIdentity(workdir / unit_id / "identity")
        enroll(hq.url, code, unit_id, identity, hq.ca_pem)
        return cls(unit_id, counter_id, HQClient.from_identity(hq.url, identity),
                   workdir / unit_id)

    def envelope(self, type_: str, utc: dt.datetime, **data: Any) -> EventEnvelope:
        self.mono += 1.0
        return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=self.unit_id,
                             counter_id=self.counter_id, utc=utc, mono=self.mono,
                             boot_id=self.boot_id, clock_synced=True, data=data)

    def post(self, *events: EventEnvelope) -> None:
        """Send one batch over mutual TLS; HQ must accept every event."""
        accepted, duplicates = self.client.post_events(list(events))
        assert (accepted, duplicates) == (len(events), 0)

    def send(self, type_: str, utc: dt.datetime, **data: Any) -> EventEnvelope:
        env = self.envelope(type_, utc, **data)
        self.post(env)
        return env

    def transaction(self, txn_id: str, start: dt.datetime, staff_id: str, *,
                    minutes: float = 3.0, rating: int | None = 5,
                    clip: bool = False) -> None:
        """A whole transaction (started, prompted, rated or not, ended), its clip if asked."""
        end = start + dt.timedelta(minutes=minutes)
        events = [
            self.envelope("transaction_started", start, txn_id=txn_id, staff_id=staff_id,
                          session_id="sess", clip_id=txn_id),
            self.envelope("rating_prompted", end - dt.timedelta(seconds=20), txn_id=txn_id,
                          staff_id=staff_id, trigger="auto"),
        ]
        if rating is not None:
            events.append(self.envelope("rating", end - dt.timedelta(seconds=10),
                                        txn_id=txn_id, staff_id=staff_id, outcome="rated",
                                        rating=rating, key=str(rating), suspect=False))
        events.append(self.envelope("transaction_ended", end, txn_id=txn_id,
                                    staff_id=staff_id, duration_s=minutes * 60.0,
                                    reason="customer_left"))
        self.post(*events)
        if clip:
            self.upload_clip(txn_id, end)

    def upload_clip(self, clip_id: str, utc: dt.datetime, seconds: float = 4.0) -> str:
        """Make a clip, upload it over tus, then report it closed; returns its sha256."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / f"{clip_id}.mp4"
        sha = clip_mp4(path, seconds, seed=len(self.clips) + 1)
        size = path.stat().st_size
        self.client.upload_clip(clip_id, path, size, sha)
        self.send("clip_closed", utc, clip_id=clip_id, sha256=sha, size=size,
                  duration_s=seconds)
        self.clips[clip_id] = sha
        return sha
