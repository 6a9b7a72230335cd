"""Pose presence and person segmentation on a zone crop (pose_landmark_full)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.preprocess.letterbox import Letterbox
from vision.tflite_model import LetterboxedModel


@dataclass(frozen=True, slots=True)
class LandmarkResult:
    """``presence``: the model's pose-presence probability (0..1).

    ``person_fraction``: share of the crop (padding excluded) that the
    segmentation head calls person (probability > 0.5).
    """

    presence: float
    person_fraction: float


class PoseLandmark(LetterboxedModel):
    """MediaPipe pose_landmark_full (256 x 256, input in [0, 1]) on a whole crop.

    The model is meant to run on a person-centred ROI; on a zone crop where a
    person fills most of the frame its presence flag still separates people
    (front, side and back) from animals and objects, which the face-anchored
    detector cannot do for backs.
    """

    INPUT = 256
    SCALE = 1.0 / 255.0  # input range [0, 1]
    OFFSET = 0.0

    def __init__(self, model_path: str | Path, threads: int = 1) -> None:
        super().__init__(model_path, threads)
        # Identity_1 is already a probability (the graph applies the sigmoid).
        self._presence = self.output_index("Identity_1")
        self._segmentation = self.output_index("Identity_2")

    def infer(self) -> tuple[np.ndarray, np.ndarray]:
        """Run the model on the prepared tensor: presence (1, 1) and segmentation logits."""
        self.invoke()
        return self.tensor(self._presence), self.tensor(self._segmentation)

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

    def run_many(self, images: Sequence[np.ndarray]) -> list[LandmarkResult]:
        """``run`` on every image, preparing and reading overlapped with inference."""
        return self.pipeline(images, self._outputs_copy, self._read)

    def _outputs_copy(self) -> tuple[np.ndarray, ...]:
        return self.tensor(self._presence), self.tensor(self._segmentation)  # copies

    def _read(self, out: tuple[np.ndarray, ...], lb: Letterbox) -> LandmarkResult:
        return self.read(out[0], out[1], lb)
