"""Scoring counts against hall truth: absolute error per sample, mean over the scored ones.

A truth sample is scored when the counter reported a count at that time
(within ``tolerance_s``); samples before the background was learned have no
count and are listed as unscored, never as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vision.hall.truth import HallTruth


@dataclass(frozen=True, slots=True)
class CountScore:
    """Per-sample signed errors (decided - true) and what was left unscored."""

    errors: tuple[tuple[float, int], ...]
    unscored: tuple[float, ...]
    max_mae: float

    @property
    def mae(self) -> float:
        return sum(abs(e) for _, e in self.errors) / len(self.errors) if self.errors else 0.0

    @property
    def bias(self) -> float:
        return sum(e for _, e in self.errors) / len(self.errors) if self.errors else 0.0

    @property
    def ok(self) -> bool:
        # Nothing scored is a failure: a counter that never counts must not pass.
        return bool(self.errors) and self.mae <= self.max_mae + 1e-9

    def histogram(self) -> dict[int, int]:
        """How many samples had each signed error."""
        out: dict[int, int] = {}
        for _, e in self.errors:
            out[e] = out.get(e, 0) + 1
        return dict(sorted(out.items()))

    def text(self) -> str:
        hist = " ".join(f"{e:+d}:{n}" for e, n in self.histogram().items())
        return (f"MAE {self.mae:.2f} (max {self.max_mae:g}) bias {self.bias:+.2f} over "
                f"{len(self.errors)} samples, {len(self.unscored)} unscored; errors {hist}")


def score_counts(truth: HallTruth, decided: Mapping[float, int],
                 tolerance_s: float = 0.05) -> CountScore:
    """Score ``decided`` (time -> people) against every truth sample."""
    errors: list[tuple[float, int]] = []
    unscored: list[float] = []
    times = sorted(decided)
    for s in truth.samples:
        near = [t for t in times if abs(t - s.t) <= tolerance_s]
        if not near:
            unscored.append(s.t)
            continue
        got = decided[min(near, key=lambda t: abs(t - s.t))]
        errors.append((s.t, got - s.count))
    return CountScore(tuple(errors), tuple(unscored), truth.max_mae)
