"""Fixed-bin histograms of handling times, so medians and p90s add up across days.

Mean handling time is exact (sum and count are kept). The median and p90 come from a
histogram with fixed bins kept in every rollup: 5 s wide below 10 min, 60 s wide from
10 min to 1 h, and one bin for an hour or more. A quantile is the nearest-rank
observation's bin, reported as that bin's midpoint: within 2.5 s of the exact value
below 10 min, within 30 s up to an hour; a quantile in the last bin is reported as
3600 s ("an hour or more"). Because bins are fixed, the histogram of a month is the sum
of its days' histograms, so the quantile of any period is well defined from rollups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

FINE_S, FINE_UNTIL = 5.0, 600.0
COARSE_S, COARSE_UNTIL = 60.0, 3600.0
FINE_BINS = int(FINE_UNTIL / FINE_S)
LAST_BIN = FINE_BINS + int((COARSE_UNTIL - FINE_UNTIL) / COARSE_S)


def bin_of(seconds: float) -> int:
    """The bin a handling time falls in (negative times count as 0)."""
    s = max(0.0, seconds)
    if s < FINE_UNTIL:
        return int(s // FINE_S)
    if s < COARSE_UNTIL:
        return FINE_BINS + int((s - FINE_UNTIL) // COARSE_S)
    return LAST_BIN


def bin_value(b: int) -> float:
    """The value a quantile falling in bin ``b`` is reported as (its midpoint)."""
    if b < FINE_BINS:
        return b * FINE_S + FINE_S / 2
    if b < LAST_BIN:
        return FINE_UNTIL + (b - FINE_BINS) * COARSE_S + COARSE_S / 2
    return COARSE_UNTIL


def quantile(hist: Mapping[int, float], q: float) -> float | None:
    """Nearest-rank ``q``-quantile (0 < q <= 1) of a histogram; None when it is empty."""
    if not 0 < q <= 1:
        raise ValueError(f"quantile {q} must be in (0, 1]")
    n = sum(v for v in hist.values() if v > 0)
    if n <= 0:
        return None
    rank = max(1, math.ceil(q * n - 1e-9))
    seen = 0.0
    for b in sorted(hist):
        seen += max(0.0, hist[b])
        if seen >= rank:
            return bin_value(b)
    return bin_value(max(hist))
