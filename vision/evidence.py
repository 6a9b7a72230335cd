"""Person evidence for one zone crop: the models' scores combined into one number.

Measured on composed counter scenes (docs/vision.md): the landmark model's
presence flag on the whole crop sees people from the front, the side and the
back, and is near zero on empty zones and objects, but spikes now and then on
an animal. The face-anchored detector misses backs and fires on printed faces
and on empty walls. So the landmark flag leads; the detector is consulted only
when the flag is ambiguous, and only counts when its face sits on foreground
(a poster is background), by re-running the landmark model on the person ROI
the detector proposes, as MediaPipe's own pipeline does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from vision.detector import Detection, PoseDetector
from vision.landmark import PoseLandmark
from vision.model_files import FLOAT16, ModelFiles, float16_files

EvidenceMode = Literal["combined", "landmark", "posedet"]
MODEL_FILES = FLOAT16


@dataclass(frozen=True, slots=True)
class Evidence:
    """Scores from one model pass over a crop; ``score`` is what the analyzer uses.

    ``posedet`` and ``roi`` are None when that stage did not run.
    """

    score: float
    landmark: float | None
    posedet: float | None = None
    roi: float | None = None
    detections: tuple[Detection, ...] = ()


class Scorer(Protocol):
    """Turns a zone crop (and its foreground mask, if known) into Evidence."""

    def score(self, crop: np.ndarray, mask: np.ndarray | None) -> Evidence: ...


Scored = Sequence[tuple[np.ndarray, np.ndarray | None]]


@runtime_checkable
class BatchScorer(Scorer, Protocol):
    """A Scorer that scores several crops (one frame's zones) in one overlapped pass."""

    def score_many(self, items: Scored) -> list[Evidence]: ...


def score_all(scorer: Scorer, items: Scored) -> list[Evidence]:
    """Evidence for each (crop, mask), batched when the scorer can, equal either way."""
    if not items:
        return []
    if isinstance(scorer, BatchScorer):
        return scorer.score_many(items)
    return [scorer.score(crop, mask) for crop, mask in items]


def roi_square(crop: np.ndarray, box: tuple[float, float, float, float], scale: float) -> (
    np.ndarray
):
    """A square around a relative box, ``scale`` times its longer side, black outside."""
    h, w = crop.shape[:2]
    cx, cy = (box[0] + box[2]) / 2 * w, (box[1] + box[3]) / 2 * h
    side = max(2, int(max((box[2] - box[0]) * w, (box[3] - box[1]) * h) * scale))
    x0, y0 = int(cx - side / 2), int(cy - side / 2)
    out = np.zeros((side, side, 3), np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(w, x0 + side), min(h, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = crop[sy0:sy1, sx0:sx1]
    return out


def box_on_mask(box: tuple[float, float, float, float], mask: np.ndarray) -> float:
    """Share of the mask cells under a relative box that are set."""
    rows, cols = mask.shape
    c0, c1 = int(box[0] * cols), max(int(box[0] * cols) + 1, int(np.ceil(box[2] * cols)))
    r0, r1 = int(box[1] * rows), max(int(box[1] * rows) + 1, int(np.ceil(box[3] * rows)))
    cells = mask[r0:r1, c0:c1]
    return float(cells.mean()) if cells.size else 0.0


@dataclass(frozen=True, slots=True)
class ScorerParams:
    """How the models' outputs are combined.

    ambiguous: landmark scores in [low, high) consult the detector. face_score:
    detector score needed for its ROI to count. face_on_foreground: share of
    the face box that must be foreground (when a reference exists). roi_scale:
    ROI side relative to the detector's body box. crowded_fg: foreground share
    over which a low flag consults the detector too; crowded_roi: the ROI score
    such a consultation needs to count.
    """

    mode: EvidenceMode = "combined"
    ambiguous: tuple[float, float] = (0.1, 0.7)
    face_score: float = 0.6
    face_on_foreground: float = 0.3
    roi_scale: float = 1.25
    crowded_fg: float = 0.25
    crowded_roi: float = 0.5


def consults(landmark: float, mask: np.ndarray | None, params: ScorerParams) -> bool:
    """Is face evidence consulted: an ambiguous flag, or a low one over a crowded zone?

    Two people side by side (a companion) drive the whole-crop landmark flag
    towards zero while the face detector finds both; so a low flag over
    ``crowded_fg`` of foreground asks the detector too (its faces must lie on
    foreground, and the ROI pass must then see a person).
    """
    if is_ambiguous(landmark, params):
        return True
    crowded = mask is not None and float(mask.mean()) >= params.crowded_fg
    return landmark < params.ambiguous[0] and crowded


def is_ambiguous(landmark: float, params: ScorerParams) -> bool:
    """Is the landmark score in the band where face evidence is consulted?"""
    return params.ambiguous[0] <= landmark < params.ambiguous[1]


def new_faces(
    detections: list[Detection], mask: np.ndarray | None, params: ScorerParams
) -> list[Detection]:
    """Confident detections whose face lies on foreground.

    Without a reference (``mask`` None) a face may be a poster on the wall, so
    none is trusted.
    """
    if mask is None:
        return []
    return [
        d for d in detections
        if d.score >= params.face_score and box_on_mask(d.face, mask) >= params.face_on_foreground
    ]


def combine(landmark: float, roi: float | None, params: ScorerParams,
            consulted: bool | None = None) -> float:
    """The combined person score: the landmark flag, lifted by the ROI pass when consulted.

    ``consulted`` defaults to "the flag is ambiguous" (see ``consults``).
    """
    if consulted is None:
        consulted = is_ambiguous(landmark, params)
    if roi is None or not consulted:
        return landmark
    if not is_ambiguous(landmark, params) and roi < params.crowded_roi:
        # Consulted for crowding only: the ROI must itself see a person (a
        # teller leaning in at the zone's edge leaves a half-person ROI).
        return landmark
    return max(landmark, roi)


class ModelScorer:
    """Evidence from the real LiteRT models; one instance serves every zone.

    ``models`` is a folder (the float16 models in it) or the ModelFiles that
    ``vision.model_files.resolve_model_files`` chose.
    """

    def __init__(
        self, models: str | Path | ModelFiles, threads: int = 1,
        params: ScorerParams | None = None,
    ) -> None:
        self.params = params or ScorerParams()
        files = models if isinstance(models, ModelFiles) else float16_files(Path(models))
        self.files = files
        self.landmark = PoseLandmark(files.landmark, threads)
        self.detector = PoseDetector(
            files.detector, threads, min_score=min(0.5, self.params.face_score),
        )

    def _roi_presence(self, crop: np.ndarray, faces: list[Detection]) -> float | None:
        if not faces:
            return None
        scale = self.params.roi_scale
        return max(self.landmark.run(roi_square(crop, d.box, scale)).presence for d in faces)

    def score(self, crop: np.ndarray, mask: np.ndarray | None) -> Evidence:
        """Evidence by ``params.mode``, running only the stages that mode needs."""
        p = self.params
        if p.mode == "posedet":
            found, best = self.detector.run(crop)
            return Evidence(score=best, landmark=None, posedet=best, detections=tuple(found))
        lm = self.landmark.run(crop).presence
        if p.mode == "landmark" or not consults(lm, mask, p):
            return Evidence(score=lm, landmark=lm)
        found, best = self.detector.run(crop)
        roi = self._roi_presence(crop, new_faces(found, mask, p))
        return Evidence(combine(lm, roi, p, True), lm, best, roi, tuple(found))

    def score_many(self, items: Scored) -> list[Evidence]:
        """``score`` for each (crop, mask), each model's passes overlapped by ``run_many``.

        Equal to calling ``score`` in turn: the same stages run on the same crops.
        """
        p = self.params
        crops = [crop for crop, _ in items]
        if p.mode == "posedet":
            return [
                Evidence(score=best, landmark=None, posedet=best, detections=tuple(found))
                for found, best in self.detector.run_many(crops)
            ]
        lms = [r.presence for r in self.landmark.run_many(crops)]
        out = [Evidence(score=lm, landmark=lm) for lm in lms]
        if p.mode == "landmark":
            return out
        ambiguous = [i for i, lm in enumerate(lms) if consults(lm, items[i][1], p)]
        runs = self.detector.run_many([crops[i] for i in ambiguous])
        for i, (found, best) in zip(ambiguous, runs, strict=True):
            crop, mask = items[i]
            roi = self._roi_presence(crop, new_faces(found, mask, p))
            out[i] = Evidence(combine(lms[i], roi, p, True), lms[i], best, roi, tuple(found))
        return out

    def all_stages(self, crop: np.ndarray, mask: np.ndarray | None) -> Evidence:
        """Every stage whatever the landmark says (ablations); ``score`` is the combined rule."""
        p = self.params
        lm = self.landmark.run(crop).presence
        found, best = self.detector.run(crop)
        roi = self._roi_presence(crop, new_faces(found, mask, p))
        return Evidence(combine(lm, roi, p, consults(lm, mask, p)), lm, best, roi, tuple(found))
