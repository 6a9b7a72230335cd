"""ClipBook: a recording failure is recorded as such and never stops the unit's loop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from audio.encoder import AacEncoder
from firmware.daemon.clips import ClipBook
from firmware.recorder import RecorderError
from firmware.recorder.writer import ClipWriter
from firmware.store import EventContext, Store
from firmware.system.clock import UnitClock
from hal.camera.base import Packet
from hal.camera.file.camera import FileCamera
from hal.mic.silent import SilentMicrophone
from tests.helpers.media import bars_video

Media = tuple[FileCamera, list[list[Packet]], AacEncoder]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    video = bars_video(tmp_path_factory.mktemp("v") / "bars.mp4", 6.0)
    cam = FileCamera(video, record_width=320, record_height=240)
    cam.start()
    mic, enc = SilentMicrophone(), AacEncoder(16000)
    batches = [sorted([*c.packets, *enc.encode(mic.read(c.t))], key=lambda p: p.pts)
               for c in cam.captures()]
    return cam, batches, enc


@pytest.fixture
def book(tmp_path: Path, media: Media) -> Iterator[ClipBook]:
    cam, _, enc = media
    clock = UnitClock.media(lambda: 0.0, dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
    store = Store(tmp_path / "unit.db", EventContext("u", "c", "b", clock))
    yield ClipBook(store, tmp_path / "clips", 5.0, cam.video_info, enc.info)
    store.close()


def states(book: ClipBook) -> dict[str, str]:
    return {r["clip_id"]: r["state"] for r in book.store.rows("clips")}


def test_clip_that_cannot_be_created_is_recorded_as_cut(book: ClipBook) -> None:
    book.clips_dir.parent.mkdir(parents=True, exist_ok=True)
    book.clips_dir.write_text("not a directory")  # the day folder cannot be made
    book.start("t1", "transaction", 0.0)          # must not raise
    book.stop("t1", 3.0)                          # nor must stopping it
    assert states(book) == {"t1": "cut"}
    (row,) = book.store.rows("clips")
    assert "cannot create" in row["note"]


def test_clip_whose_writer_fails_midway_is_settled_and_stop_is_harmless(
        book: ClipBook, media: Media, monkeypatch: pytest.MonkeyPatch) -> None:
    _, batches, _ = media
    book.start("t1", "transaction", 0.0)
    real_write = ClipWriter.write
    calls = {"n": 0}

    def flaky(self: ClipWriter, packets: list[Packet]) -> None:
        calls["n"] += 1
        if calls["n"] > 30:
            raise RecorderError(f"{self.partial_path}: No space left on device")
        real_write(self, packets)

    monkeypatch.setattr(ClipWriter, "write", flaky)
    for batch in batches:
        book.feed(batch)
        book.commit_closed(batch[-1].pts if batch else 0.0)
    book.stop("t1", 5.0)                          # the clip is gone: no error
    state = states(book)["t1"]
    assert state in ("salvaged", "cut")
    (row,) = book.store.rows("clips")
    assert "No space left" in row["note"]
    assert [r["type"] for r in book.store.rows("events")] == [f"clip_{state}"]


def test_normal_clip_commits_with_sha(book: ClipBook, media: Media) -> None:
    _, batches, _ = media
    book.start("t1", "transaction", 1.0)
    book.stop("t1", 4.0)
    for batch in batches:
        book.feed(batch)
    (env,) = book.commit_closed(6.0)
    assert env.type == "clip_closed" and env.data["sha256"]
    assert abs(env.data["duration_s"] - 3.0) <= 0.6
