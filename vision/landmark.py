"""Pose presence and person segmentation on a zone crop (pose_landmark_full)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vision.preprocess import Letterbox, letterbox
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

    @property
    def interpreter(self) -> Any:
        """The underlying LiteRT interpreter (benchmarks compare against it)."""
        return self._interp

    @property
    def input_tensor(self) -> np.ndarray:
        """The input buffer ``prepare`` fills (1 x 256 x 256 x 3, float32)."""
        return self._tensor

    def prepare(self, image: np.ndarray) -> Letterbox:
        """Letterbox ``image`` into the input tensor ([0, 1]); returns the mapping."""
        canvas, lb = letterbox(image, self.INPUT, self._canvas)
        np.multiply(canvas, 1.0 / 255.0, out=self._tensor[0], casting="unsafe")
        return lb

    def infer(self) -> tuple[np.ndarray, np.ndarray]:
        """Run the model on the prepared tensor: presence (1, 1) and segmentation logits."""
        self._interp.set_tensor(self._input, self._tensor)
        self._interp.invoke()
        return (
            self._interp.get_tensor(self._presence),
            self._interp.get_tensor(self._segmentation),
        )

    @staticmethod
    def read(presence: np.ndarray, segmentation: np.ndarray, lb: Letterbox) -> LandmarkResult:
        """The result from raw outputs; padding is left out of the person fraction."""
        rows, cols = lb.inside()
        logits = segmentation[0, rows, cols, 0]
        # logit > 0 <=> probability > 0.5, without computing the sigmoid.
        fraction = float(np.count_nonzero(logits > 0.0)) / max(1, lb.new_w * lb.new_h)
        flag = float(presence.reshape(-1)[0])
        return LandmarkResult(presence=min(1.0, max(0.0, flag)), person_fraction=fraction)

    def run(self, image: np.ndarray) -> LandmarkResult:
        """Presence probability and person fraction for an RGB uint8 crop."""
        lb = self.prepare(image)
        return self.read(*self.infer(), lb)
