"""The unit's HQ client against a real HQ over mutual TLS, through the fault proxy.

Shows the store-and-forward properties issue 4 asks for at the client level:
events are idempotent, an interrupted clip upload resumes without re-sending
acknowledged bytes (only the chunk in flight), an unreachable HQ is reported
as "try later", and HQ's refusals as refusals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.api.deps import HQLimits
from sync.hq_client import HQClient, HQRejected, HQUnavailable
from sync.schema import EventEnvelope
from tests.faultproxy import Direction, FaultProxy
from tests.helpers.hq.server import HQServer, running_hq

CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HQServer]:
    limits = HQLimits(max_chunk_bytes=CHUNK)
    with running_hq(tmp_path_factory.mktemp("hq"), limits) as server:
        yield server


@pytest.fixture
def proxy(hq: HQServer) -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", hq.port)) as p:
        yield p


def event(unit_id: str, type_: str = "login") -> EventEnvelope:
    return EventEnvelope(uuid=str(uuid.uuid4()), type=type_, unit_id=unit_id,
                         counter_id="counter-1", utc=dt.datetime.now(dt.UTC), mono=1.0,
                         boot_id="boot", clock_synced=True, data={"staff_id": "s-1"})


def clip_file(tmp_path: Path, name: str, size: int) -> tuple[Path, str]:
    path = tmp_path / f"{name}.mp4"
    path.write_bytes(random.Random(name).randbytes(size))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_events_are_idempotent(hq: HQServer) -> None:
    client = HQClient.from_identity(hq.url, hq.enrolled_unit("unit-ev"))
    batch = [event("unit-ev"), event("unit-ev", "alert_raised")]
    assert client.post_events(batch) == (2, 0)
    assert client.post_events(batch) == (0, 2)  # a retry after a lost answer is harmless


def test_another_units_events_are_refused(hq: HQServer) -> None:
    client = HQClient.from_identity(hq.url, hq.enrolled_unit("unit-a"))
    with pytest.raises(HQRejected) as info:
        client.post_events([event("unit-b")])
    assert info.value.status == 403


def test_upload_then_nothing_more_to_send(hq: HQServer, tmp_path: Path) -> None:
    client = HQClient.from_identity(hq.url, hq.enrolled_unit("unit-up"))
    path, sha = clip_file(tmp_path, "c1", 5 * CHUNK + 123)
    first = client.upload_clip("c1", path, path.stat().st_size, sha, chunk_bytes=CHUNK)
    assert (first.sent_bytes, first.already_complete) == (path.stat().st_size, False)
    stored = hq.deps.clips.open_clip("c1", "unit-up")
    assert stored.sha256 == sha and stored.path is not None
    assert stored.path.read_bytes() == path.read_bytes()
    again = client.upload_clip("c1", path, path.stat().st_size, sha, chunk_bytes=CHUNK)
    assert (again.sent_bytes, again.already_complete) == (0, True)


def test_interrupted_upload_resends_only_the_chunk_in_flight(
        hq: HQServer, proxy: FaultProxy, tmp_path: Path) -> None:
    client = HQClient.from_identity(f"https://localhost:{proxy.port}",
                                    hq.enrolled_unit("unit-cut"))
    size = 8 * CHUNK
    path, sha = clip_file(tmp_path, "c2", size)
    # Cut the connection part-way through the 4th chunk (TLS overhead included).
    proxy.reset_after(3 * CHUNK + CHUNK // 2, Direction.UP, times=1)
    with pytest.raises(HQUnavailable):
        client.upload_clip("c2", path, size, sha, chunk_bytes=CHUNK)
    resumed = client.upload_clip("c2", path, size, sha, chunk_bytes=CHUNK)
    assert resumed.resumed_from % CHUNK == 0 and resumed.resumed_from >= 2 * CHUNK
    # Everything before the offset HQ acknowledged was sent exactly once.
    assert resumed.sent_bytes == size - resumed.resumed_from
    assert hq.deps.clips.open_clip("c2", "unit-cut").sha256 == sha


def test_unreachable_hq_is_try_later(hq: HQServer, proxy: FaultProxy) -> None:
    client = HQClient.from_identity(f"https://localhost:{proxy.port}",
                                    hq.enrolled_unit("unit-down"))
    proxy.set_down(True)
    with pytest.raises(HQUnavailable):
        client.post_events([event("unit-down")])
    proxy.set_down(False)
    assert client.post_events([event("unit-down")]) == (1, 0)


def test_config_pull_with_etag(hq: HQServer) -> None:
    client = HQClient.from_identity(hq.url, hq.enrolled_unit("unit-cfg"))
    (hq.deps.config_dir / "unit-cfg.json").write_text('{"rules": {"rating_window_s": 12}}')
    got = client.fetch_config(None)
    assert got is not None and b"rating_window_s" in got[1]
    assert client.fetch_config(got[0]) is None  # unchanged: 304


def test_unenrolled_identity_is_refused_before_any_request(hq: HQServer, tmp_path: Path) -> None:
    from sync.hq_client import HQError
    from sync.identity import UnitIdentity

    with pytest.raises(HQError, match="not enrolled"):
        HQClient.from_identity(hq.url, UnitIdentity(tmp_path / "fresh"))


def test_environment_cannot_replace_the_pinned_ca(hq: HQServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """REQUESTS_CA_BUNDLE naming HQ's CA must not make a client pinned elsewhere trust HQ."""
    from hq.pki.ca import CertificateAuthority

    other = CertificateAuthority.create(tmp_path / "other-ca", "other")
    (tmp_path / "other.pem").write_bytes(other.cert_pem)
    ident = hq.enrolled_unit("unit-pin")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(hq.ca_pem))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(hq.ca_pem))
    pinned_elsewhere = HQClient(hq.url, cert=(ident.cert_path, ident.key_path),
                                ca=tmp_path / "other.pem")
    with pytest.raises(HQUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        pinned_elsewhere.post_events([event("unit-pin")])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "other.pem"))
    assert HQClient.from_identity(hq.url, ident).post_events([event("unit-pin")]) == (1, 0)
