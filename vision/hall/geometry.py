"""Hall areas and the person-size model, in fractions of the frame.

Areas are polygons (a rectangle is four corners) in frame fractions, so the
same config holds for any stream size. A person belongs to the area holding
their foot point (the bottom centre of their blob): where they stand, not
where their head reaches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]


def rect(x0: float, y0: float, x1: float, y1: float) -> tuple[Point, ...]:
    """The four corners of an axis-aligned rectangle, clockwise from top left."""
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def inside(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd rule: is ``point`` inside ``polygon``? Points on the left/top edge count."""
    x, y = point
    hit = False
    n = len(polygon)
    for i in range(n):
        (xa, ya), (xb, yb) = polygon[i], polygon[(i + 1) % n]
        if (ya > y) != (yb > y):
            cross = xa + (y - ya) * (xb - xa) / (yb - ya)
            if x < cross:
                hit = not hit
    return hit


@dataclass(frozen=True, slots=True)
class PersonScale:
    """How tall a standing person looks, by the row their feet are on (all fractions).

    Two reference people measured once at mounting time: one far (higher in
    the image) and one near. Height is linear in the foot row between and
    beyond them (a flat floor seen by a tilted camera), never below ``min_height``.
    ``fill`` is the share of a person's height squared their silhouette covers
    (about 0.26 for an upright adult: a body is about a third as wide as tall,
    and does not fill its box).
    """

    far_row: float = 0.156
    far_height: float = 0.049
    near_row: float = 0.521
    near_height: float = 0.153
    fill: float = 0.26
    min_height: float = 0.02

    def height(self, foot_row: float) -> float:
        """Expected person height (fraction of frame height) with feet on ``foot_row``."""
        slope = (self.near_height - self.far_height) / (self.near_row - self.far_row)
        return max(self.min_height, self.far_height + (foot_row - self.far_row) * slope)

    def area(self, foot_row: float, aspect: float) -> float:
        """Expected silhouette area of one person as a fraction of the frame's area.

        ``aspect`` is frame width / height: heights are fractions of the
        height, areas of the whole frame.
        """
        h = self.height(foot_row)
        return self.fill * h * h / aspect
