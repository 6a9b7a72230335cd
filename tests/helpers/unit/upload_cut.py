"""One clip upload cut part-way and resumed, with the bytes counted on the wire.

Shared by tests/integration/sync/test_upload_cut.py (small, in ``make test``) and
bench/bench_upload.py (8 MiB): a real HQ behind the fault proxy, which terminates TLS and
counts the clip bytes (tus PATCH bodies) it forwarded. The client's own count is not used:
it counts what it handed to its socket, which is more than reached HQ before a cut.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from dataclasses import dataclass
from pathlib import Path

from sync.hq_client import HQClient, HQUnavailable
from tests.faultproxy import Direction, FaultProxy
from tests.helpers.hq.server import HQServer
from tests.helpers.unit.sync_wire import ClipAudit, audit_clips, tls_tap


@dataclass(frozen=True)
class CutFigures:
    """What a cut upload cost on the wire."""

    size: int
    chunk: int
    audit: ClipAudit
    stored_sha_ok: bool

    @property
    def resent(self) -> int:
        return self.audit.resent


@dataclass(frozen=True)
class CapFigures:
    size: int
    elapsed_s: float
    cap: float

    @property
    def fraction(self) -> float:
        return self.size / self.elapsed_s / self.cap


def clip_file(folder: Path, name: str, size: int) -> tuple[Path, str]:
    path = folder / f"{name}.mp4"
    path.write_bytes(random.Random(name).randbytes(size))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def upload_cut(hq: HQServer, folder: Path, *, size: int, chunk: int,
               cut_at: int) -> CutFigures:
    """Upload a ``size`` clip in ``chunk`` pieces, the connection reset once after ``cut_at``
    bytes went up, then resume it; figures from the proxy's wire log."""
    path, sha = clip_file(folder, "cut", size)
    unit = hq.enrolled_unit("unit-cut")
    with FaultProxy(("127.0.0.1", hq.port), tls=tls_tap(hq, unit)) as proxy:
        client = HQClient.from_identity(f"https://localhost:{proxy.port}", unit)
        proxy.reset_after(cut_at, Direction.UP, times=1)
        with contextlib.suppress(HQUnavailable):  # the cut
            client.upload_clip("cut", path, size, sha, chunk_bytes=chunk)
        client.upload_clip("cut", path, size, sha, chunk_bytes=chunk)
        client.close()
    if proxy.wire.errors:
        raise AssertionError(f"the wire tap could not read the HTTP: {proxy.wire.errors}")
    stored = hq.deps.clips.open_clip("cut", "unit-cut")
    return CutFigures(size, chunk, audit_clips(proxy.wire.exchanges()), stored.sha256 == sha)


def upload_capped(hq: HQServer, folder: Path, *, size: int, chunk: int,
                  cap: float) -> CapFigures:
    """Upload a ``size`` clip through a link capped at ``cap`` bytes/s; the time it took."""
    path, sha = clip_file(folder, "capped", size)
    unit = hq.enrolled_unit("unit-capped")
    with FaultProxy(("127.0.0.1", hq.port)) as proxy:
        proxy.set_bandwidth(cap, Direction.UP)
        client = HQClient.from_identity(f"https://localhost:{proxy.port}", unit)
        start = time.monotonic()
        client.upload_clip("capped", path, size, sha, chunk_bytes=chunk)
        elapsed = time.monotonic() - start
        client.close()
    if hq.deps.clips.open_clip("capped", "unit-capped").sha256 != sha:
        raise AssertionError("the capped clip arrived damaged")
    return CapFigures(size, elapsed, cap)
