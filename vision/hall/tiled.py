"""People per hall area from the existing person detector run over tiles of the frame.

MediaPipe's pose_detection (vision/detector.py) is a face-anchored single-crop detector
(224 x 224 input): on a whole hall frame every person is a few pixels. Here the full-size
frame is cut into overlapping tiles of ``tile_px`` (224: the model's own input, no
scaling), every tile is detected, the face boxes are brought back to frame coordinates and
suppressed across tiles (a person on a tile border is seen twice), and each person counts
in the first area holding the foot of the body box the detector regresses.

Measured on vtest.avi against tests/data/hall/vtest.json (docs/eval.md, "The hall
suite"): MAE 0.99 at tile 224, min_score 0.4, NMS IoU 0.1 (the best of a sweep on those
frames), against 0.65 for the background counter, at about ten times its cost, and it
undercounts the composed cases (people seen from behind); so it is selectable
(``[hall.counter] type = "tiled_pose"``) and the background counter stays the default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.detector import PoseDetector
from vision.hall.counter import WHOLE_FRAME, Counts
from vision.hall.geometry import Point, inside
from vision.ssd import nms


@dataclass(frozen=True, slots=True)
class TileParams:
    """Tiling and decision thresholds."""

    tile_px: int = 224
    overlap: float = 0.33
    min_score: float = 0.4
    iou: float = 0.1
    count_every_s: float = 1.0
    threads: int = 1


def tile_origins(h: int, w: int, size: int, overlap: float) -> list[tuple[int, int]]:
    """Top-left corners (y, x) of tiles of ``size`` covering an h x w frame, neighbours
    overlapping by ``overlap`` of a tile; the last row and column end at the frame's edge."""
    if size >= h and size >= w:
        return [(0, 0)]
    step = max(1, int(size * (1 - overlap)))

    def starts(n: int) -> list[int]:
        if size >= n:
            return [0]
        out = list(range(0, n - size + 1, step))
        if out[-1] + size < n:
            out.append(n - size)
        return out
    return [(y, x) for y in starts(h) for x in starts(w)]


def merge_people(found: Sequence[tuple[float, tuple[float, float, float, float], Point]],
                 iou: float) -> list[Point]:
    """Foot points of the people left after suppressing overlapping face boxes (frame
    pixels) across tiles, best first."""
    if not found:
        return []
    scores = np.array([f[0] for f in found], dtype=np.float32)
    boxes = np.array([f[1] for f in found], dtype=np.float32)
    keep = nms(boxes, scores, iou, len(found))
    return [found[int(k)][2] for k in keep]


class TiledPoseCounter:
    """Counts people per area with the pose detector over tiles; same interface as
    :class:`vision.hall.counter.HallCounter` (``wants``, ``step``)."""

    def __init__(self, model_path: str | Path, areas: Mapping[str, Sequence[Point]] | None = None,
                 params: TileParams | None = None) -> None:
        self.params = params or TileParams()
        self.areas = dict(areas or WHOLE_FRAME)
        self.detector = PoseDetector(model_path, threads=self.params.threads,
                                     min_score=self.params.min_score, max_detections=20)
        self._next_t: float | None = None

    def wants(self, t: float) -> bool:
        """Whether a frame at ``t`` would be counted (only one a period is)."""
        return self._next_t is None or t >= self._next_t - 1e-6

    def step(self, frame: np.ndarray, t: float) -> Counts | None:
        """Count one RGB frame taken at ``t`` when a count is due; else None."""
        if not self.wants(t):
            return None
        every = self.params.count_every_s
        self._next_t = (math.floor(t / every + 1e-6) + 1) * every
        return Counts(t, self.count(frame), ())

    def count(self, frame: np.ndarray) -> dict[str, int]:
        """People per area in one frame."""
        h, w = frame.shape[:2]
        size = self.params.tile_px
        origins = tile_origins(h, w, size, self.params.overlap)
        crops = [frame[y:y + size, x:x + size] for y, x in origins]
        found: list[tuple[float, tuple[float, float, float, float], Point]] = []
        results = self.detector.run_many(crops)
        for (y, x), crop, (dets, _) in zip(origins, crops, results, strict=True):
            ch, cw = crop.shape[:2]  # a tile of a frame smaller than tile_px is smaller too
            for d in dets:
                fx0, fy0, fx1, fy1 = d.face
                face = (x + fx0 * cw, y + fy0 * ch, x + fx1 * cw, y + fy1 * ch)
                bx0, _, bx1, by1 = d.box
                foot = ((x + (bx0 + bx1) / 2 * cw) / w, min(0.999, (y + by1 * ch) / h))
                found.append((d.score, face, foot))
        out = dict.fromkeys(self.areas, 0)
        for foot in merge_people(found, self.params.iou):
            for name, poly in self.areas.items():
                if inside(foot, poly):
                    out[name] += 1
                    break
        return out

    def close(self) -> None:
        self.detector.close()
