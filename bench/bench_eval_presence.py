"""The whole presence suite (26 composed cases and the real clips, ~23 min of video), timed.

``counterunit eval presence`` with a fresh folder: composition, then each case
replayed and scored. Prints the per-case lines, the totals, the replay speed,
the composition time and, last, ``eval presence: P/N cases pass``; exits 1
unless every case passes. About 2 minutes on an idle 2-core machine, so it is
not part of ``make test`` (tests/system/test_eval_presence.py runs three cases):

    .venv/bin/python bench/bench_eval_presence.py [--dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from firmware.tools.eval_presence import evaluate, prepare, summary
from vision.evalsuite.cases import cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, help="keep the videos here (default: temp)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-eval-presence-"))
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    prepare(folder, cases())
    composed = time.perf_counter() - start
    results = evaluate(folder, None, None, compose_missing=False, real=True)
    print(f"composition {composed:.0f} s, total {time.perf_counter() - start:.0f} s")
    print(summary(results))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
