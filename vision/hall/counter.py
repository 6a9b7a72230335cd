"""People per hall area, once a second, from the camera's frames.

``HallCounter.step(frame, t)`` downsizes the frame to the analysis width,
feeds the background and, when a count is due, returns the people per area
(``None`` while the background is still being learned or between counts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from vision.hall.background import BackgroundParams, MedianBackground
from vision.hall.blobs import Blob, clean, find_blobs, people_in
from vision.hall.geometry import PersonScale, Point, inside, rect

WHOLE_FRAME = {"hall": rect(0.0, 0.0, 1.0, 1.0)}


@dataclass(frozen=True, slots=True)
class CounterParams:
    """Analysis size and rate."""

    width: int = 384
    count_every_s: float = 1.0
    min_share: float = 0.1
    background: BackgroundParams = field(default_factory=BackgroundParams)


@dataclass(frozen=True, slots=True)
class Counts:
    """One count: people per area at media/clock time ``t``, and the blobs behind it."""

    t: float
    per_area: dict[str, int]
    blobs: tuple[Blob, ...]

    @property
    def total(self) -> int:
        return sum(self.per_area.values())


def shrink(frame: np.ndarray, width: int) -> np.ndarray:
    """Every n-th pixel so the result is about ``width`` wide (cheap, no filtering needed:
    the median background and the opening absorb the aliasing)."""
    step = max(1, round(frame.shape[1] / width))
    return frame[::step, ::step]


def assign(blobs: Sequence[Blob], areas: Mapping[str, Sequence[Point]], aspect: float,
           scale: PersonScale, min_share: float) -> dict[str, int]:
    """People per area: each blob's worth goes to the first area holding its foot point."""
    out = dict.fromkeys(areas, 0)
    for b in blobs:
        n = people_in(b.area, b.foot[1], aspect, scale, min_share)
        # A foot exactly on the bottom edge (someone cut by the frame) counts as inside.
        foot = (b.foot[0], min(b.foot[1], 0.999))
        for name, poly in areas.items():
            if inside(foot, poly):
                out[name] += n
                break
    return out


class HallCounter:
    """Counts people per area from successive frames of one fixed camera."""

    def __init__(self, areas: Mapping[str, Sequence[Point]] | None = None,
                 scale: PersonScale | None = None, params: CounterParams | None = None) -> None:
        self.areas = dict(areas or WHOLE_FRAME)
        self.scale = scale or PersonScale()
        self.params = params or CounterParams()
        self.background = MedianBackground(self.params.background)
        self._next_t: float | None = None

    def wants(self, t: float) -> bool:
        """Whether a frame at ``t`` would be used (a count or a background sample is due):
        callers may skip converting the others."""
        due = self._next_t is None or t >= self._next_t - 1e-6
        return due or self.background.due(t)

    def step(self, frame: np.ndarray, t: float) -> Counts | None:
        """Feed one RGB frame taken at ``t`` seconds; the counts when one is due and ready."""
        small = shrink(frame, self.params.width)
        due = self._next_t is None or t >= self._next_t - 1e-6
        taking = self.background.ready and due
        # The mask is needed to count, and to keep people out of each background sample.
        needed = taking or (self.background.ready and self.background.due(t))
        mask = clean(self.background.foreground(small)) if needed else None
        self.background.offer(small, t, mask)
        if not taking or mask is None:
            return None
        # Counts fall on whole multiples of the period (t = 0, 1, 2 ... s), as truth is sampled.
        every = self.params.count_every_s
        self._next_t = (math.floor(t / every + 1e-6) + 1) * every
        return self.count_mask(mask, t)

    def count_mask(self, mask: np.ndarray, t: float) -> Counts:
        """Counts from an already cleaned foreground mask (H x W bool)."""
        h, w = mask.shape
        blobs = find_blobs(mask)
        per_area = assign(blobs, self.areas, w / h, self.scale, self.params.min_share)
        return Counts(t, per_area, tuple(blobs))
