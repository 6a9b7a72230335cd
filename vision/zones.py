"""Zones: named rectangles of the analysis frame, in relative coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.preprocess.letterbox import check_rgb


class ZoneError(ValueError):
    """A zone definition is invalid; the message names the zone and the rule."""


@dataclass(frozen=True, slots=True)
class Zone:
    """A rectangle (x0, y0) - (x1, y1) as fractions of the frame width and height."""

    name: str
    x0: float
    y0: float
    x1: float
    y1: float

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ZoneError("zone name must not be empty")
        for key in ("x0", "y0", "x1", "y1"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ZoneError(f"zone {self.name!r}: {key}={value} must be within [0, 1]")
        if self.x1 <= self.x0 or self.y1 <= self.y0:
            raise ZoneError(
                f"zone {self.name!r}: needs x0 < x1 and y0 < y1, got "
                f"({self.x0}, {self.y0}) - ({self.x1}, {self.y1})"
            )

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Pixel bounds (x0, y0, x1, y1) in a ``width`` x ``height`` frame, never empty."""
        px0 = min(width - 1, round(self.x0 * width))
        py0 = min(height - 1, round(self.y0 * height))
        px1 = max(px0 + 1, round(self.x1 * width))
        py1 = max(py0 + 1, round(self.y1 * height))
        return px0, py0, px1, py1

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The zone's view of an H x W x 3 frame (a view, not a copy)."""
        check_rgb(image)
        x0, y0, x1, y1 = self.pixels(image.shape[1], image.shape[0])
        return image[y0:y1, x0:x1]

    def overlap(self, box: tuple[float, float, float, float]) -> float:
        """Share of this zone's area covered by a relative box."""
        ix = max(0.0, min(self.x1, box[2]) - max(self.x0, box[0]))
        iy = max(0.0, min(self.y1, box[3]) - max(self.y0, box[1]))
        return ix * iy / ((self.x1 - self.x0) * (self.y1 - self.y0))


SEAT = Zone("seat", 0.0, 0.0, 0.5, 1.0)
CUSTOMER = Zone("customer", 0.5, 0.0, 1.0, 1.0)
DEFAULT_ZONES: tuple[Zone, ...] = (SEAT, CUSTOMER)


def check_unique(zones: tuple[Zone, ...] | list[Zone]) -> None:
    """Raise ZoneError if two zones share a name or there are none."""
    if not zones:
        raise ZoneError("at least one zone is needed")
    names = [z.name for z in zones]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ZoneError(f"duplicate zone names: {', '.join(dup)}")
