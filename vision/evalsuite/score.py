"""Scoring decided intervals against true ones: exact, fragmented, merged, spurious, missed.

Pure functions. A true interval and a decided one "touch" when they overlap.
  exact       a true interval touched by exactly one decided interval that
              touches no other true one, start and end each within TOLERANCE_S.
  late        such a one-to-one pair whose start or end is further off.
  fragmented  a true interval touched by two or more decided ones (counted once
              per true interval).
  merged      a decided interval touching two or more true ones (counted once
              per decided interval).
  spurious    a decided interval touching no true one.
  missed      a true interval touched by none.
A case passes when every true interval is exact and nothing else is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Interval = tuple[float, float]
TOLERANCE_S = 2.0


@dataclass(frozen=True, slots=True)
class Score:
    """Counts for one kind (transactions or absences) of one case."""

    truth: int
    got: int
    exact: int = 0
    late: int = 0
    fragmented: int = 0
    merged: int = 0
    spurious: int = 0
    missed: int = 0

    @property
    def ok(self) -> bool:
        return self.exact == self.truth and self.got == self.truth

    def text(self) -> str:
        parts = [f"{self.exact}/{self.truth} exact"]
        for key in ("late", "fragmented", "merged", "spurious", "missed"):
            value = getattr(self, key)
            if value:
                parts.append(f"{value} {key}")
        return ", ".join(parts)


def _touch(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(truth: Sequence[Interval], got: Sequence[Interval],
          tolerance_s: float = TOLERANCE_S) -> Score:
    """Match ``got`` against ``truth`` (both sorted, non-overlapping lists)."""
    by_truth = [[j for j, g in enumerate(got) if _touch(t, g)] for t in truth]
    by_got = [[i for i, t in enumerate(truth) if _touch(t, g)] for g in got]
    exact = late = fragmented = missed = 0
    for i, hits in enumerate(by_truth):
        if not hits:
            missed += 1
        elif len(hits) > 1:
            fragmented += 1
        elif len(by_got[hits[0]]) == 1:
            t, g = truth[i], got[hits[0]]
            close = abs(t[0] - g[0]) <= tolerance_s and abs(t[1] - g[1]) <= tolerance_s
            exact += close
            late += not close
    merged = sum(1 for hits in by_got if len(hits) > 1)
    spurious = sum(1 for hits in by_got if not hits)
    return Score(len(truth), len(got), exact, late, fragmented, merged, spurious, missed)
