"""Figures: one unit's clip upload and ranged playback through HQ, files against S3.

``python -m tests.s3.bench_s3_upload [--mib 32] [--ranges 20]`` starts an embedded HQ
(real TLS, SQLite) once with clips as files and once with clips in a bucket of a moto S3
server on loopback, uploads one clip with the unit's own client (1 MiB tus chunks) and
reads ranges back as the player does. It prints, last, one line per store:
``clips <store>: upload U MiB/s, 1 MiB range p50 P ms, p95 Q ms``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from pathlib import Path

import requests

from hq.accounts.users import UserStore
from hq.server.embedded import running_hq
from hq.storage.scope import Scope
from sync.hq_client import HQClient
from tests.helpers.hq.api import enrolled
from tests.servers.s3 import S3Server, s3_server

MIB = 1024 * 1024
PW = "a long enough password"


def measure(root: Path, mib: int, ranges: int, s3: S3Server | None) -> tuple[float, list[float]]:
    """(upload MiB/s, range read times in ms)."""
    data = root / "data"
    data.mkdir(parents=True)
    if s3 is not None:
        (data / "hq.toml").write_text(s3.toml(s3.new_bucket(), s3.secret_file(root)))
    payload = random.Random(1).randbytes(mib * MIB)
    sha = hashlib.sha256(payload).hexdigest()
    (root / "clip.mp4").write_bytes(payload)
    with running_hq(root) as hq:
        hq.deps.clips.max_length = len(payload) + 1
        unit = HQClient.from_identity(hq.url, enrolled(hq, "unit-bench"))
        t0 = time.perf_counter()
        unit.upload_clip("bench-1", root / "clip.mp4", len(payload), sha, chunk_bytes=MIB)
        rate = mib / (time.perf_counter() - t0)
        users: UserStore = hq.deps.user_store()
        users.create_user("sue", PW, "hall_supervisor", scope=Scope.everything())
        auth = {"Authorization": f"Bearer {users.issue_token('sue').token}"}
        rng, times = random.Random(2), []
        with requests.Session() as session:
            for _ in range(ranges):
                start = rng.randrange(0, len(payload) - MIB)
                t1 = time.perf_counter()
                r = session.get(f"{hq.url}/v1/clips/unit-bench/bench-1", verify=str(hq.ca_pem),
                                headers={**auth, "Range": f"bytes={start}-{start + MIB - 1}"},
                                timeout=30)
                times.append((time.perf_counter() - t1) * 1000)
                assert r.status_code == 206 and r.content == payload[start:start + MIB]
    return rate, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mib", type=int, default=32, help="clip size in MiB")
    ap.add_argument("--ranges", type=int, default=20, help="1 MiB ranged reads to time")
    args = ap.parse_args()
    lines = []
    with s3_server() as s3, tempfile.TemporaryDirectory() as tmp:
        for name, server in (("files", None), ("s3", s3)):
            rate, times = measure(Path(tmp) / name, args.mib, args.ranges, server)
            p95 = statistics.quantiles(times, n=20)[-1]
            lines.append(f"clips {name}: upload {rate:.1f} MiB/s, 1 MiB range p50 "
                         f"{statistics.median(times):.0f} ms, p95 {p95:.0f} ms")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
