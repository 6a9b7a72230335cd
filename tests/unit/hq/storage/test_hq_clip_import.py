"""LocalClipStore.import_clip, the ClipStore contract ``hq copy`` relies on: stored with
its digest checked while writing, a re-run a no-op, a wrong digest leaves nothing, a
different clip under the same id is a conflict."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.storage.clips.store import LocalClipStore
from hq.storage.errors import ChecksumMismatch, ClipConflict, ClipNotFound
from hq.storage.models import StoredClip

DATA = bytes(range(256)) * 5000  # 1.28 MB: more than one read block
DONE = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def clip(data: bytes = DATA, digest: str | None = None) -> StoredClip:
    return StoredClip("unit-a", "t1", len(data), digest or hashlib.sha256(data).hexdigest(),
                      DONE, None)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalClipStore]:
    s = LocalClipStore(tmp_path / "clips")
    yield s
    s.close()


def files(store: LocalClipStore) -> tuple[int, int]:
    return (len(list((store.root / "partial").iterdir())),
            len(list((store.root / "clips").iterdir())))


def test_imported_clip_plays_and_keeps_its_completion_time(store: LocalClipStore) -> None:
    assert store.import_clip(clip(), io.BytesIO(DATA)) is True
    held = store.open_clip("t1", "unit-a")
    assert b"".join(store.read_range(held, 0, held.size - 1)) == DATA
    assert held.completed_utc == DONE
    assert store.create("unit-a", "t1", len(DATA), clip().sha256).complete  # unit: done
    assert store.import_clip(clip(), io.BytesIO(b"not read")) is False  # a re-run
    assert files(store) == (0, 1)


def test_bytes_not_matching_the_digest_leave_nothing(store: LocalClipStore) -> None:
    with pytest.raises(ChecksumMismatch, match=r"unit-a.*not the 1280000 bytes of sha256"):
        store.import_clip(clip(), io.BytesIO(DATA[:-1] + b"\x00"))
    with pytest.raises(ChecksumMismatch):
        store.import_clip(clip(), io.BytesIO(DATA[:-1]))  # short
    assert files(store) == (0, 0)
    with pytest.raises(ClipNotFound):
        store.open_clip("t1", "unit-a")


def test_another_clip_under_the_same_id_is_a_conflict(store: LocalClipStore) -> None:
    store.import_clip(clip(), io.BytesIO(DATA))
    other = b"other bytes"
    with pytest.raises(ClipConflict, match="t1 of unit-a is already stored"):
        store.import_clip(clip(other), io.BytesIO(other))
    assert files(store) == (0, 1)
