"""Following a confirmed person's foreground blob from frame to frame, models aside.

The pose models lose people seen small and from behind for seconds at a time
(docs/vision.md, "Known limits"), while the foreground against the empty
reference still shows them. Once a person has been confirmed, the blocks of
their foreground are followed: each frame keeps the foreground blocks that
touch (within ``radius`` blocks) the person's blocks of the frame before,
with everything connected to them (the whole body, not only the overlap). A
person walking about the zone moves a block or two per analysis frame and so
stays followed; once fewer than ``min_share`` of the zone's blocks remain the
blob is lost and only the models can bring the person back. Someone who
leaves takes the blob with them, so the zone's foreground, not the models,
dates the departure.

Pure functions on boolean block masks (vision/foreground.py's grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class BlobParams:
    """radius: blocks a person may move between two analysis frames (5 fps).
    min_share: share of the zone's blocks the followed blob must keep (the
    analyzer's fg_hold: less foreground than that is an empty zone anyway).
    move_share: share of the blob's blocks that must have changed since the
    previous frame for it to count as a moving person.
    """

    radius: int = 1
    min_share: float = 0.05
    move_share: float = 0.1

    def __post_init__(self) -> None:
        if not 0 <= self.radius <= 8:
            raise ValueError(f"radius={self.radius} must be within [0, 8] blocks")
        for key in ("min_share", "move_share"):
            if not 0.0 < getattr(self, key) <= 1.0:
                raise ValueError(f"{key}={getattr(self, key)} must be within (0, 1]")


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` grown by ``radius`` blocks in every direction (a square neighbourhood)."""
    out = mask.copy()
    rows, cols = mask.shape
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy == 0 and dx == 0:
                continue
            src = mask[max(0, -dy):rows - max(0, dy), max(0, -dx):cols - max(0, dx)]
            out[max(0, dy):rows - max(0, -dy), max(0, dx):cols - max(0, -dx)] |= src
    return out


def follow(previous: np.ndarray | None, foreground: np.ndarray, params: BlobParams
           ) -> np.ndarray | None:
    """The person's blocks in this frame: the foreground connected to their previous blocks.

    Seeds are the foreground blocks within ``radius`` of the previous blob;
    the blob is every foreground block 8-connected to a seed. None when there
    was no blob to follow or too little of it is left (lost).
    """
    if previous is None:
        return None
    kept = foreground & dilate(previous, params.radius)
    while True:  # grow the seeds through the foreground (a 24x24 grid: a few passes)
        grown = foreground & dilate(kept, 1)
        if np.array_equal(grown, kept):
            break
        kept = grown
    if np.count_nonzero(kept) < params.min_share * kept.size:
        return None
    return kept


def moving(blob: np.ndarray, motion: np.ndarray | None, params: BlobParams) -> bool:
    """Did at least ``move_share`` of the blob's blocks change since the previous frame?

    ``motion`` is the frame-to-frame change mask (None on the first frame: not moving).
    """
    if motion is None:
        return False
    total = np.count_nonzero(blob)
    return bool(total > 0 and np.count_nonzero(blob & motion) >= params.move_share * total)
