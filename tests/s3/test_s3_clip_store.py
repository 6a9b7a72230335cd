"""S3ClipStore against a real S3 API endpoint (moto server on loopback, tests/servers/s3.py).

tus uploads chunk by chunk into parts of a multipart upload, the sha256 checked before a
clip is acknowledged, ranged reads identical to the local store's, deletion, import_clip
(the ``hq copy`` contract) and the store going away and coming back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import random
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.config import HQConfigError, S3Clips
from hq.storage import LocalClipStore
from hq.storage.base import ClipImport, ClipStore
from hq.storage.errors import (
    ChecksumMismatch,
    ClipConflict,
    ClipNotFound,
    StorageUnavailable,
    UploadNotFound,
)
from hq.storage.models import StoredClip
from hq.storage.s3.config import open_s3_store
from hq.storage.s3.store import S3ClipStore
from tests.servers.s3 import S3Server

pytestmark = pytest.mark.s3

MIB = 1024 * 1024
UNIT = "unit-s3"


def config(s3: S3Server, bucket: str, folder: Path) -> S3Clips:
    """The [clips] section an operator writes, read the way HQ reads hq.toml."""
    text = s3.toml(bucket, s3.secret_file(folder), prefix="hq/clips/")
    return S3Clips.model_validate(tomllib.loads(text)["clips"])


@pytest.fixture
def store(s3: S3Server, s3_bucket: str, tmp_path: Path) -> Iterator[S3ClipStore]:
    st = open_s3_store(tmp_path, config(s3, s3_bucket, tmp_path))
    yield st
    st.close()


def reopened(store: S3ClipStore, tmp_path: Path, s3: S3Server) -> S3ClipStore:
    """The same bucket and bookkeeping in a new store: HQ restarted, or another worker."""
    return open_s3_store(tmp_path, config(s3, store.bucket, tmp_path))


def data(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def send(store: S3ClipStore, upload_id: str, payload: bytes, start: int = 0,
         step: int = MIB + 7, stop: int | None = None) -> int:
    offset = start
    end = len(payload) if stop is None else stop
    while offset < end:
        offset = store.append(upload_id, UNIT, offset, payload[offset:min(offset + step, end)])
    return offset


def objects(s3: S3Server, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", [])]


def multipart_uploads(s3: S3Server, bucket: str) -> list[str]:
    return [u["Key"] for u in s3.client().list_multipart_uploads(Bucket=bucket)
            .get("Uploads", [])]


def whole(store: S3ClipStore, clip: StoredClip) -> bytes:
    return b"".join(store.read_range(clip, 0, clip.size - 1))


def test_the_s3_store_implements_the_protocols(store: S3ClipStore) -> None:
    # The annotations are the check: mypy fails if S3ClipStore drifts from a Protocol.
    clips: ClipStore = store
    target: ClipImport = store
    assert callable(clips.read_range) and callable(target.import_clip)


# ---- uploads ----------------------------------------------------------------------------

def test_a_multipart_upload_assembles_the_exact_clip(store: S3ClipStore, s3: S3Server) -> None:
    payload = data(11 * MIB + 17)  # two 5 MiB parts and a last one
    up = store.create(UNIT, "big-1", len(payload), hashlib.sha256(payload).hexdigest())
    assert (up.offset, up.complete) == (0, False)
    assert send(store, up.upload_id, payload) == len(payload)
    clip = store.open_clip("big-1", UNIT)
    assert (clip.size, clip.sha256) == (len(payload), hashlib.sha256(payload).hexdigest())
    key = f"hq/clips/{UNIT}/big-1/{up.upload_id}"
    assert objects(s3, store.bucket) == [key]
    head = s3.client().head_object(Bucket=store.bucket, Key=key)
    assert head["ContentLength"] == len(payload)
    assert head["Metadata"]["sha256"] == clip.sha256
    assert whole(store, clip) == payload
    assert multipart_uploads(s3, store.bucket) == []
    # Announced again: HQ has it, the unit sends nothing.
    again = store.create(UNIT, "big-1", len(payload), clip.sha256)
    assert (again.offset, again.complete) == (len(payload), True)


def test_offsets_stand_across_a_restart_and_the_object_is_checked_after(
        store: S3ClipStore, s3: S3Server, tmp_path: Path) -> None:
    payload = data(6 * MIB + 5, seed=2)
    sha = hashlib.sha256(payload).hexdigest()
    up = store.create(UNIT, "resume-1", len(payload), sha)
    half = send(store, up.upload_id, payload, stop=5 * MIB + 100)  # a part in S3 + spool
    store.close()
    later = reopened(store, tmp_path, s3)
    try:
        assert later.offset(up.upload_id, UNIT).offset == half
        assert later.create(UNIT, "resume-1", len(payload), sha).upload_id == up.upload_id
        assert send(later, up.upload_id, payload, start=half) == len(payload)
        assert whole(later, later.open_clip("resume-1", UNIT)) == payload
    finally:
        later.close()


def test_two_workers_taking_alternate_chunks_store_the_exact_clip(
        store: S3ClipStore, s3: S3Server, tmp_path: Path) -> None:
    payload = data(12 * MIB + 1, seed=11)
    sha = hashlib.sha256(payload).hexdigest()
    other = reopened(store, tmp_path, s3)  # a second worker over the same tables and bucket
    try:
        up = store.create(UNIT, "shared-1", len(payload), sha)
        assert other.create(UNIT, "shared-1", len(payload), sha).upload_id == up.upload_id
        offset, step, workers = 0, 3 * MIB, (store, other)
        for turn in range(5):
            offset = workers[turn % 2].append(up.upload_id, UNIT, offset,
                                             payload[offset:offset + step])
        assert offset == len(payload)
        for st in workers:
            assert whole(st, st.open_clip("shared-1", UNIT)) == payload
    finally:
        other.close()


@pytest.mark.parametrize("size", [1000, 6 * MIB], ids=["one-put", "multipart"])
def test_a_wrong_digest_is_refused_and_nothing_is_kept(store: S3ClipStore, s3: S3Server,
                                                       size: int) -> None:
    payload = data(size, seed=3)
    up = store.create(UNIT, "bad-1", size, hashlib.sha256(b"other").hexdigest())
    with pytest.raises(ChecksumMismatch):
        send(store, up.upload_id, payload)
    with pytest.raises(ClipNotFound):
        store.open_clip("bad-1", UNIT)
    with pytest.raises(UploadNotFound):
        store.offset(up.upload_id, UNIT)
    assert objects(s3, store.bucket) == [] and multipart_uploads(s3, store.bucket) == []
    fresh = store.create(UNIT, "bad-1", size, hashlib.sha256(payload).hexdigest())
    assert fresh.upload_id != up.upload_id and fresh.offset == 0
    send(store, fresh.upload_id, payload)
    assert whole(store, store.open_clip("bad-1", UNIT)) == payload


def test_a_digest_checked_after_a_restart_refuses_the_assembled_object(
        store: S3ClipStore, s3: S3Server, tmp_path: Path) -> None:
    payload = data(5 * MIB + 10, seed=4)
    up = store.create(UNIT, "bad-2", len(payload), hashlib.sha256(b"x").hexdigest())
    half = send(store, up.upload_id, payload, stop=5 * MIB)  # exactly one part in S3
    store.close()
    later = reopened(store, tmp_path, s3)  # no running digest: reads the object back
    try:
        with pytest.raises(ChecksumMismatch):
            send(later, up.upload_id, payload, start=half)
        assert objects(s3, later.bucket) == [] and multipart_uploads(s3, later.bucket) == []
    finally:
        later.close()


def test_expiry_aborts_an_abandoned_multipart_upload(store: S3ClipStore,
                                                     s3: S3Server) -> None:
    payload = data(6 * MIB, seed=12)
    up = store.create(UNIT, "gone-1", len(payload), hashlib.sha256(payload).hexdigest())
    send(store, up.upload_id, payload, stop=5 * MIB)  # one part in S3
    assert multipart_uploads(s3, store.bucket) == [f"hq/clips/{UNIT}/gone-1/{up.upload_id}"]
    now = dt.datetime.now(dt.UTC)
    assert store.expire(dt.timedelta(hours=1), now) == 0  # still moving
    assert store.expire(dt.timedelta(hours=1), now + dt.timedelta(hours=2)) == 1
    assert multipart_uploads(s3, store.bucket) == []
    with pytest.raises(UploadNotFound):
        store.offset(up.upload_id, UNIT)
    assert store.create(UNIT, "gone-1", len(payload), up.sha256).offset == 0  # starts over


# ---- playback ---------------------------------------------------------------------------

def test_ranges_read_exactly_what_the_local_store_reads(store: S3ClipStore,
                                                        tmp_path: Path) -> None:
    payload = data(300_001, seed=5)
    sha = hashlib.sha256(payload).hexdigest()
    local = LocalClipStore(tmp_path / "local")
    try:
        for st in (store, local):
            up = st.create(UNIT, "play-1", len(payload), sha)
            st.append(up.upload_id, UNIT, 0, payload)
        s3_clip, file_clip = store.open_clip("play-1"), local.open_clip("play-1")
        assert (s3_clip.size, s3_clip.sha256) == (file_clip.size, file_clip.sha256)
        for start, end in [(0, 0), (0, 99), (1000, 70_000), (299_000, 300_000),
                           (0, 300_000), (65_535, 65_536)]:
            got = b"".join(store.read_range(s3_clip, start, end, chunk_size=4096))
            assert got == b"".join(local.read_range(file_clip, start, end)) \
                == payload[start:end + 1]
    finally:
        local.close()


# ---- deletion ---------------------------------------------------------------------------

def test_delete_removes_the_object_and_keeps_a_tombstone(store: S3ClipStore,
                                                         s3: S3Server) -> None:
    payload = data(2000, seed=6)
    sha = hashlib.sha256(payload).hexdigest()
    up = store.create(UNIT, "old-1", len(payload), sha)
    store.append(up.upload_id, UNIT, 0, payload)
    assert len(objects(s3, store.bucket)) == 1
    assert store.delete(UNIT, "old-1") is True
    assert objects(s3, store.bucket) == []
    with pytest.raises(ClipNotFound):
        store.open_clip("old-1", UNIT)
    assert store.delete(UNIT, "old-1") is False
    assert store.create(UNIT, "old-1", len(payload), sha).complete  # HQ had it: send nothing


# ---- import_clip (hq copy) --------------------------------------------------------------

def stored(clip_id: str, payload: bytes, sha: str | None = None) -> StoredClip:
    return StoredClip(UNIT, clip_id, len(payload), sha or hashlib.sha256(payload).hexdigest(),
                      dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC), None)


@pytest.mark.parametrize("size", [4000, 11 * MIB], ids=["one-put", "multipart"])
def test_import_clip_stores_once_and_refuses_what_does_not_match(
        store: S3ClipStore, s3: S3Server, size: int) -> None:
    payload = data(size, seed=7)
    clip = stored("copied-1", payload)
    assert store.import_clip(clip, io.BytesIO(payload)) is True
    assert store.import_clip(clip, io.BytesIO(payload)) is False  # a re-run: a no-op
    got = store.open_clip("copied-1", UNIT)
    assert (got.size, got.sha256, got.completed_utc) == (size, clip.sha256, clip.completed_utc)
    assert whole(store, got) == payload
    with pytest.raises(ClipConflict):
        store.import_clip(stored("copied-1", payload[:-1]), io.BytesIO(payload[:-1]))
    keys = objects(s3, store.bucket)
    with pytest.raises(ChecksumMismatch):  # the source is not what the clip says
        store.import_clip(stored("copied-2", payload), io.BytesIO(payload[:-1] + b"!"))
    with pytest.raises(ChecksumMismatch):  # a short source
        store.import_clip(stored("copied-3", payload), io.BytesIO(payload[:-1]))
    assert objects(s3, store.bucket) == keys and multipart_uploads(s3, store.bucket) == []
    with pytest.raises(ClipNotFound):
        store.open_clip("copied-2", UNIT)


# ---- the store going away ---------------------------------------------------------------

def test_store_down_refuses_what_needs_it_then_the_upload_completes(
        store: S3ClipStore, s3: S3Server, caplog: pytest.LogCaptureFixture) -> None:
    done = data(1500, seed=8)
    up_done = store.create(UNIT, "kept-1", len(done), hashlib.sha256(done).hexdigest())
    store.append(up_done.upload_id, UNIT, 0, done)
    clip = store.open_clip("kept-1", UNIT)
    payload = data(5 * MIB + 300, seed=9)
    up = store.create(UNIT, "moving-1", len(payload), hashlib.sha256(payload).hexdigest())
    offset = send(store, up.upload_id, payload, stop=4 * MIB)  # spooled, nothing in S3
    caplog.set_level(logging.INFO, logger="hq.storage.s3.client")
    s3.stop()
    # A chunk that fills a part needs the store: refused, nothing kept.
    for _ in range(3):
        with pytest.raises(StorageUnavailable) as err:
            store.append(up.upload_id, UNIT, offset, payload[offset:offset + 2 * MIB])
        assert err.value.retry_after_s > 0
        assert store.offset(up.upload_id, UNIT).offset == offset
    with pytest.raises(StorageUnavailable):
        store.read_range(clip, 0, 99)
    assert store.open_clip("kept-1", UNIT) == clip  # what HQ knows needs only its database
    s3.start()
    assert send(store, up.upload_id, payload, start=offset) == len(payload)
    assert whole(store, store.open_clip("moving-1", UNIT)) == payload
    assert b"".join(store.read_range(clip, 0, 99)) == done[:100]
    failing = [r for r in caplog.records if "failing" in r.getMessage()]
    back = [r for r in caplog.records if "reachable again" in r.getMessage()]
    assert (len(failing), len(back)) == (1, 1)  # one line each way, not one per request
    assert failing[0].levelno == logging.ERROR


def test_a_hung_store_times_out_and_a_retried_part_lands_once(
        s3: S3Server, s3_bucket: str, tmp_path: Path) -> None:
    cfg = config(s3, s3_bucket, tmp_path).model_copy(update={"timeout_s": 1.0})
    st = open_s3_store(tmp_path, cfg)
    try:
        payload = data(7 * MIB + 99, seed=13)  # the hung chunk fills part 1
        up = st.create(UNIT, "hung-1", len(payload), hashlib.sha256(payload).hexdigest())
        offset = send(st, up.upload_id, payload, stop=3 * MIB)
        s3.pause()
        try:
            with pytest.raises(StorageUnavailable):  # within the timeout, not for ever
                st.append(up.upload_id, UNIT, offset, payload[offset:offset + 3 * MIB])
        finally:
            s3.resume()  # the frozen request may now land too: the retry overwrites it
        assert st.offset(up.upload_id, UNIT).offset == offset
        assert send(st, up.upload_id, payload, start=offset, step=3 * MIB) == len(payload)
        assert whole(st, st.open_clip("hung-1", UNIT)) == payload
    finally:
        st.close()


def test_a_missing_bucket_is_a_config_error_naming_it(s3: S3Server, tmp_path: Path) -> None:
    with pytest.raises(HQConfigError, match=r"clips\.bucket: bucket 'no-such-bucket'"):
        open_s3_store(tmp_path, config(s3, "no-such-bucket", tmp_path))


def test_an_endpoint_down_at_start_up_does_not_stop_hq(s3: S3Server, s3_bucket: str,
                                                       tmp_path: Path) -> None:
    s3.stop()
    st = open_s3_store(tmp_path, config(s3, s3_bucket, tmp_path))
    try:
        payload = data(100, seed=10)
        up = st.create(UNIT, "late-1", len(payload), hashlib.sha256(payload).hexdigest())
        with pytest.raises(StorageUnavailable):
            st.append(up.upload_id, UNIT, 0, payload)
        s3.start()
        assert st.append(up.upload_id, UNIT, 0, payload) == len(payload)
    finally:
        st.close()
