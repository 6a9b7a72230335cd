"""Keypad fuzz at the rating level: 1 000 000 corrupted frames of rating sessions.

Version-2 frames (CRC-32, RATING_KEY naming the open prompt) through the unit's parser and
rating gate (tests/helpers/unit/keypad_fuzz.py; the suite runs 100 000 in
tests/fuzz/test_keypad_fuzz.py).
Prints every stage's count, then ``keypad fuzz: F frames, P phantom ratings``; exits 1 on any
phantom rating or a corruption that passed the check. Not part of `make test`:

    .venv/bin/python -m bench.bench_keypad_fuzz [--frames 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.unit.keypad_fuzz import run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    counts = run(args.frames, args.seed)
    print(f"{counts.line()}; {time.perf_counter() - start:.1f} s")
    print(f"keypad fuzz: {counts.frames} frames, {counts.phantom_ratings} phantom ratings")
    return 1 if counts.phantom_ratings or counts.forged else 0


if __name__ == "__main__":
    sys.exit(main())
