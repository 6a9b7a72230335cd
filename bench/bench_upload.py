"""Clip upload through a capped link on loopback: fraction of the cap, bytes re-sent.

A real HQ (mutual TLS) behind the fault proxy capped at --cap bytes/s; the
unit's client uploads a clip, then another whose connection is cut part-way.
Prints the achieved fraction of the cap (target >= 0.90) and the bytes sent
beyond the clip's size after the cut (target: at most one chunk). Not part of
`make test`:

    .venv/bin/python bench/bench_upload.py [--cap 1000000] [--mib 8]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hq.api.deps import HQLimits
from sync.hq_client import HQClient, HQUnavailable
from tests.faultproxy import Direction, FaultProxy
from tests.hq_server import running_hq

CHUNK = 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cap", type=float, default=1_000_000, help="link cap, bytes/s")
    parser.add_argument("--mib", type=int, default=8, help="clip size in MiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            running_hq(Path(tmp) / "hq", HQLimits(max_chunk_bytes=CHUNK)) as hq:
        clips = []
        for name in ("capped", "cut"):
            path = Path(tmp) / f"{name}.mp4"
            path.write_bytes(random.Random(name).randbytes(args.mib * 1024 * 1024))
            clips.append((name, path, hashlib.sha256(path.read_bytes()).hexdigest()))
        with FaultProxy(("127.0.0.1", hq.port)) as proxy:
            proxy.set_bandwidth(args.cap, Direction.UP)
            client = HQClient.from_identity(f"https://localhost:{proxy.port}",
                                            hq.enrolled_unit("unit-bench"))
            name, path, sha = clips[0]
            size = path.stat().st_size
            start = time.monotonic()
            client.upload_clip(name, path, size, sha, chunk_bytes=CHUNK)
            elapsed = time.monotonic() - start
            print(f"capped upload: {size / 1e6:.1f} MB in {elapsed:.2f} s = "
                  f"{size / elapsed / 1e3:.0f} kB/s of a {args.cap / 1e3:.0f} kB/s cap: "
                  f"fraction {size / elapsed / args.cap:.3f} (target >= 0.90)")

            proxy.set_bandwidth(None)
            name, path, sha = clips[1]
            size = path.stat().st_size
            before = client.clip_bytes_sent
            proxy.reset_after(size // 2, Direction.UP, times=1)
            with contextlib.suppress(HQUnavailable):  # the cut
                client.upload_clip(name, path, size, sha, chunk_bytes=CHUNK)
            client.upload_clip(name, path, size, sha, chunk_bytes=CHUNK)
            resent = client.clip_bytes_sent - before - size
            print(f"cut at half of {size / 1e6:.1f} MB: {resent} bytes re-sent "
                  f"(one chunk is {CHUNK}; target <= one chunk)")
            assert hq.deps.clips.open_clip(name, "unit-bench").sha256 == sha
            client.close()


if __name__ == "__main__":
    main()
