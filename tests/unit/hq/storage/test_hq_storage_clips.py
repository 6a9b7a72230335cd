"""LocalClipStore: tus-style create / offset / append, resume, verification, refusals."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.storage import (
    BeyondLength,
    ChecksumMismatch,
    ClipConflict,
    ClipNotFound,
    ForeignUnit,
    InvalidInput,
    LocalClipStore,
    OffsetConflict,
    QuotaExceeded,
    UploadNotFound,
    UploadTooLarge,
)

# Deterministic bytes: test ids derive from their digest and must match across xdist workers.
DATA = random.Random(20261122).randbytes(300_000)
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalClipStore]:
    s = LocalClipStore(tmp_path / "hq", max_length=1_000_000)
    yield s
    s.close()


def send(store: LocalClipStore, upload_id: str, data: bytes, start: int, stop: int,
         chunk: int = 64_000) -> int:
    offset = start
    while offset < stop:
        offset = store.append(upload_id, "unit-a", offset, data[offset:min(offset + chunk, stop)])
    return offset


def test_create_append_complete_and_read_back(store: LocalClipStore) -> None:
    up = store.create("unit-a", "p-t1", len(DATA), SHA)
    assert (up.offset, up.complete, up.length) == (0, False, len(DATA))
    assert "p-t1" not in up.upload_id and len(up.upload_id) == 32
    assert send(store, up.upload_id, DATA, 0, len(DATA)) == len(DATA)
    state = store.offset(up.upload_id, "unit-a")
    assert (state.offset, state.complete) == (len(DATA), True)
    clip = store.open_clip("p-t1")
    assert (clip.size, clip.sha256, clip.unit_id) == (len(DATA), SHA, "unit-a")
    assert clip.path is not None and clip.path.read_bytes() == DATA
    assert b"".join(store.read_range(clip, 1000, 1999, chunk_size=300)) == DATA[1000:2000]


def test_resume_after_restart_rehashes_the_partial(tmp_path: Path) -> None:
    root = tmp_path / "hq"
    first = LocalClipStore(root)
    up = first.create("unit-a", "p-t2", len(DATA), SHA)
    send(first, up.upload_id, DATA, 0, 100_000)
    first.close()

    second = LocalClipStore(root)  # a restarted process: no hash state in memory
    again = second.create("unit-a", "p-t2", len(DATA), SHA)
    assert (again.upload_id, again.offset) == (up.upload_id, 100_000)
    assert second.offset(up.upload_id, "unit-a").offset == 100_000
    assert send(second, up.upload_id, DATA, 100_000, len(DATA)) == len(DATA)
    assert second.open_clip("p-t2", "unit-a").sha256 == SHA
    second.close()


def test_wrong_offset_is_a_conflict_that_names_the_right_one(store: LocalClipStore) -> None:
    up = store.create("unit-a", "p-t3", len(DATA), SHA)
    send(store, up.upload_id, DATA, 0, 1000)
    for wrong in (0, 999, 1001):
        with pytest.raises(OffsetConflict) as err:
            store.append(up.upload_id, "unit-a", wrong, DATA[wrong:wrong + 10])
        assert err.value.expected == 1000
    assert store.offset(up.upload_id, "unit-a").offset == 1000


def test_chunk_past_the_length_is_refused_and_nothing_written(store: LocalClipStore) -> None:
    up = store.create("unit-a", "p-t4", 100, hashlib.sha256(DATA[:100]).hexdigest())
    store.append(up.upload_id, "unit-a", 0, DATA[:50])
    with pytest.raises(BeyondLength):
        store.append(up.upload_id, "unit-a", 50, DATA[50:151])
    assert store.offset(up.upload_id, "unit-a").offset == 50
    assert store.append(up.upload_id, "unit-a", 50, DATA[50:100]) == 100
    with pytest.raises(BeyondLength):
        store.append(up.upload_id, "unit-a", 100, b"x")


def test_checksum_mismatch_discards_and_a_reupload_works(store: LocalClipStore) -> None:
    up = store.create("unit-a", "p-t5", len(DATA), SHA)
    bad = bytearray(DATA)
    bad[-1] ^= 0xFF
    send(store, up.upload_id, bytes(bad), 0, len(DATA) - 64_000)
    with pytest.raises(ChecksumMismatch):
        send(store, up.upload_id, bytes(bad), len(DATA) - 64_000, len(DATA))
    with pytest.raises(UploadNotFound):
        store.offset(up.upload_id, "unit-a")
    with pytest.raises(ClipNotFound):
        store.open_clip("p-t5")
    assert not any((store.root / "partial").iterdir())
    fresh = store.create("unit-a", "p-t5", len(DATA), SHA)
    assert fresh.upload_id != up.upload_id and fresh.offset == 0
    send(store, fresh.upload_id, DATA, 0, len(DATA))
    assert store.open_clip("p-t5").sha256 == SHA


def test_completed_clip_is_not_uploaded_twice(store: LocalClipStore) -> None:
    up = store.create("unit-a", "p-t6", len(DATA), SHA)
    send(store, up.upload_id, DATA, 0, len(DATA))
    again = store.create("unit-a", "p-t6", len(DATA), SHA)
    assert (again.complete, again.offset, again.upload_id) == (True, len(DATA), up.upload_id)
    # A retried final PATCH whose answer was lost: nothing to write, offset is the length.
    assert store.append(up.upload_id, "unit-a", len(DATA), b"") == len(DATA)
    with pytest.raises(OffsetConflict):
        store.append(up.upload_id, "unit-a", 0, DATA[:10])
    with pytest.raises(ClipConflict):
        store.create("unit-a", "p-t6", len(DATA), "0" * 64)


def test_reannounced_digest_restarts_the_upload(store: LocalClipStore) -> None:
    up = store.create("unit-a", "p-t7", len(DATA), "0" * 64)
    send(store, up.upload_id, DATA, 0, 1000)
    fresh = store.create("unit-a", "p-t7", len(DATA), SHA)
    assert fresh.upload_id != up.upload_id and fresh.offset == 0
    with pytest.raises(UploadNotFound):
        store.append(up.upload_id, "unit-a", 1000, DATA[1000:2000])


def test_another_units_upload_is_refused(store: LocalClipStore) -> None:
    up = store.create("unit-a", "p-t8", len(DATA), SHA)
    with pytest.raises(ForeignUnit):
        store.append(up.upload_id, "unit-b", 0, DATA[:10])
    with pytest.raises(ForeignUnit):
        store.offset(up.upload_id, "unit-b")
    assert store.offset(up.upload_id, "unit-a").offset == 0
    with pytest.raises(UploadNotFound):
        store.offset("../../etc/passwd", "unit-a")


@pytest.mark.parametrize("clip_id", [
    "../x", "a/b", "/etc/passwd", "a\x00b", "..", ".hidden", "a\\b", "", "x" * 129,
    "p-t1\n", "ü",
])
def test_hostile_clip_ids_are_refused(store: LocalClipStore, clip_id: str) -> None:
    with pytest.raises(InvalidInput):
        store.create("unit-a", clip_id, 10, SHA)
    with pytest.raises(InvalidInput):
        store.open_clip(clip_id)
    assert not any((store.root / "partial").iterdir())


@pytest.mark.parametrize(("unit_id", "length", "sha"), [
    ("../u", 10, SHA), ("unit-a", 0, SHA), ("unit-a", -1, SHA), ("unit-a", 10, SHA.upper()),
    ("unit-a", 10, "abc"), ("unit-a", True, SHA),
])
def test_bad_create_arguments_are_refused(store: LocalClipStore, unit_id: str, length: int,
                                          sha: str) -> None:
    with pytest.raises(InvalidInput):
        store.create(unit_id, "p-t9", length, sha)


def test_oversize_is_refused(store: LocalClipStore) -> None:
    assert store.create("unit-a", "big-ok", 1_000_000, SHA).offset == 0
    with pytest.raises(UploadTooLarge):
        store.create("unit-a", "big", 1_000_001, SHA)


def test_same_clip_id_on_two_units_is_kept_apart(store: LocalClipStore) -> None:
    other = DATA[:1000]
    for unit, data in (("unit-a", DATA), ("unit-b", other)):
        up = store.create(unit, "same", len(data), hashlib.sha256(data).hexdigest())
        store.append(up.upload_id, unit, 0, data)
    b = store.open_clip("same", "unit-b")
    assert b.path is not None and b.path.read_bytes() == other


def test_crash_after_rename_is_completed_on_restart(tmp_path: Path) -> None:
    root = tmp_path / "hq"
    s = LocalClipStore(root)
    up = s.create("unit-a", "p-t10", len(DATA), SHA)
    send(s, up.upload_id, DATA, 0, len(DATA) - 1)
    s.close()
    # Simulate the crash window: the verified file was renamed, the row not yet written.
    part = root / "partial" / up.upload_id
    part.write_bytes(DATA)
    os.replace(part, root / "clips" / up.upload_id)
    (root / "partial" / "stray").write_bytes(b"junk")
    s2 = LocalClipStore(root)
    assert s2.open_clip("p-t10").sha256 == SHA
    assert s2.offset(up.upload_id, "unit-a").complete
    assert not (root / "partial" / "stray").exists()
    s2.close()


def test_unfinished_uploads_per_unit_are_bounded(tmp_path: Path) -> None:
    s = LocalClipStore(tmp_path / "hq", max_open_uploads=2)
    s.create("unit-a", "q1", 10, SHA)
    s.create("unit-a", "q2", 10, SHA)
    assert s.create("unit-a", "q1", 10, SHA).offset == 0  # resuming is not a new upload
    with pytest.raises(QuotaExceeded):
        s.create("unit-a", "q3", 10, SHA)
    assert s.create("unit-b", "q3", 10, SHA).offset == 0  # other units are unaffected
    s.close()


def test_expire_discards_stale_unfinished_uploads(store: LocalClipStore) -> None:
    old = store.create("unit-a", "old", len(DATA), SHA)
    send(store, old.upload_id, DATA, 0, 1000)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    assert store.expire(dt.timedelta(days=7), now=later) == 1
    assert store.expire(dt.timedelta(days=7), now=later) == 0
    with pytest.raises(UploadNotFound):
        store.offset(old.upload_id, "unit-a")
    assert not (store.root / "partial" / old.upload_id).exists()
    assert store.create("unit-a", "old", len(DATA), SHA).upload_id != old.upload_id


def test_fresh_uploads_are_not_expired(store: LocalClipStore) -> None:
    up = store.create("unit-a", "fresh", len(DATA), SHA)
    assert store.expire(dt.timedelta(days=7)) == 0
    assert store.offset(up.upload_id, "unit-a").offset == 0
