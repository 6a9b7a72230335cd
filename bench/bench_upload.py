"""Clip upload through a capped link on loopback: fraction of the cap, bytes re-sent.

A real HQ (mutual TLS) behind the fault proxy capped at --cap bytes/s; the
unit's client uploads a clip, then another whose connection is cut part-way.
Targets: the capped upload reaches >= 0.90 of the cap, and after the cut at most
one chunk is sent twice, counted on the wire by the fault proxy (which terminates
TLS and reads the tus PATCH bodies), with no byte below an offset HQ had already
announced. Exits 1 when a figure misses its target. Not part of `make test` (its
deterministic half, the cut, is tests/integration/sync/test_upload_cut.py):

    .venv/bin/python bench/bench_upload.py [--cap 1000000] [--mib 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hq.api.deps import HQLimits
from tests.helpers.hq.server import running_hq
from tests.helpers.unit.upload_cut import upload_capped, upload_cut

CHUNK = 1024 * 1024
TARGET_FRACTION = 0.90


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cap", type=float, default=1_000_000, help="link cap, bytes/s")
    parser.add_argument("--mib", type=int, default=8, help="clip size in MiB")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp, \
            running_hq(Path(tmp) / "hq", HQLimits(max_chunk_bytes=CHUNK)) as hq:
        capped = upload_capped(hq, Path(tmp), size=size, chunk=CHUNK, cap=args.cap)
        print(f"capped upload: {size / 1e6:.1f} MB in {capped.elapsed_s:.2f} s = "
              f"{size / capped.elapsed_s / 1e3:.0f} kB/s of a {args.cap / 1e3:.0f} kB/s cap: "
              f"fraction {capped.fraction:.3f} (target >= {TARGET_FRACTION:.2f})")
        cut = upload_cut(hq, Path(tmp), size=size, chunk=CHUNK, cut_at=size // 2)
    audit = cut.audit
    print(f"cut at half of {size / 1e6:.1f} MB: {audit.resent} bytes re-sent on the wire "
          f"in {audit.patches} chunk uploads, {audit.interrupted} interrupted, "
          f"{audit.below_ack} below HQ's offset (one chunk is {CHUNK}; target <= one chunk "
          f"per interruption, 0 below HQ's offset)")
    misses = []
    if capped.fraction < TARGET_FRACTION:
        misses.append(f"fraction of the cap {capped.fraction:.3f} < {TARGET_FRACTION}")
    if not cut.stored_sha_ok or audit.unique_bytes != size:
        misses.append("the cut clip did not arrive whole")
    if audit.resent > CHUNK * max(1, audit.interrupted) or audit.below_ack:
        misses.append(f"{audit.resent} bytes re-sent ({audit.below_ack} below HQ's offset)")
    for miss in misses:
        print(f"MISSED: {miss}", file=sys.stderr)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
