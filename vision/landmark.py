"""Pose presence and person segmentation on a zone crop (pose_landmark_full)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.preprocess import letterbox
from vision.runtime import make_interpreter


@dataclass(frozen=True, slots=True)
class LandmarkResult:
    """``presence``: the model's pose-presence probability (0..1).

    ``person_fraction``: share of the crop (padding excluded) that the
    segmentation head calls person (probability > 0.5).
    """

    presence: float
    person_fraction: float


class PoseLandmark:
    """MediaPipe pose_landmark_full (256 x 256, input in [0, 1]) on a whole crop.

    The model is meant to run on a person-centred ROI; on a zone crop where a
    person fills most of the frame its presence flag still separates people
    (front, side and back) from animals and objects, which the face-anchored
    detector cannot do for backs.
    """

    INPUT = 256

    def __init__(self, model_path: str | Path, threads: int = 1) -> None:
        self._interp: Any = make_interpreter(model_path, threads)
        self._input = self._interp.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self._interp.get_output_details()}
        # Identity_1 is already a probability (the graph applies the sigmoid).
        self._presence = outputs["Identity_1"]
        self._segmentation = outputs["Identity_2"]
        self._canvas = np.zeros((self.INPUT, self.INPUT, 3), np.uint8)
        self._tensor = np.zeros((1, self.INPUT, self.INPUT, 3), np.float32)

    def run(self, image: np.ndarray) -> LandmarkResult:
        """Presence probability and person fraction for an RGB uint8 crop."""
        canvas, lb = letterbox(image, self.INPUT, self._canvas)
        np.multiply(canvas, 1.0 / 255.0, out=self._tensor[0], casting="unsafe")
        self._interp.set_tensor(self._input, self._tensor)
        self._interp.invoke()
        presence = float(self._interp.get_tensor(self._presence).reshape(-1)[0])
        logits = self._interp.get_tensor(self._segmentation)[0, :, :, 0]
        rows, cols = lb.inside()
        # logit > 0 <=> probability > 0.5, without computing the sigmoid.
        fraction = float(np.count_nonzero(logits[rows, cols] > 0.0)) / max(1, lb.new_w * lb.new_h)
        return LandmarkResult(presence=min(1.0, max(0.0, presence)), person_fraction=fraction)
