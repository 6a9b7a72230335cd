"""From a foreground mask to people: connected blobs, each worth round(area / one person).

A blob is one connected patch of foreground. Its foot point is the bottom
centre; its worth in people is its area over the expected area of one person
standing at that row (``PersonScale``), rounded half up, at least one, and none
for a blob smaller than ``min_share`` of a person (noise, a moved bag). Two
people walking together make one blob of about twice the area: it counts two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from vision.hall.geometry import PersonScale, Point


@dataclass(frozen=True, slots=True)
class Blob:
    """One connected foreground patch; ``foot`` and ``area`` in frame fractions."""

    foot: Point
    area: float
    box: tuple[float, float, float, float]


def people_in(area: float, foot_row: float, aspect: float, scale: PersonScale,
              min_share: float = 0.1) -> int:
    """How many people a blob of ``area`` (fraction of the frame) with feet on ``foot_row`` is."""
    share = area / scale.area(foot_row, aspect)
    if share < min_share:
        return 0
    return max(1, math.floor(share + 0.5))


def clean(mask: np.ndarray) -> np.ndarray:
    """Drop speckle (opening) and close small gaps inside a body (closing)."""
    out = ndimage.binary_opening(mask, iterations=1)
    return ndimage.binary_closing(out, iterations=2)


def find_blobs(mask: np.ndarray, min_pixels: int = 20) -> list[Blob]:
    """Connected blobs of a boolean mask (H x W), largest patches of noise dropped below
    ``min_pixels``; coordinates as fractions of the mask."""
    h, w = mask.shape
    labels, _ = ndimage.label(mask)
    out = []
    for i, sl in enumerate(ndimage.find_objects(labels)):
        if sl is None:
            continue
        pixels = int((labels[sl] == i + 1).sum())
        if pixels < min_pixels:
            continue
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        out.append(Blob(foot=((x0 + x1) / 2 / w, y1 / h), area=pixels / (h * w),
                        box=(x0 / w, y0 / h, x1 / w, y1 / h)))
    return out
