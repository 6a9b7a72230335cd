"""Person detection on a zone crop with MediaPipe's pose_detection model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from vision.preprocess.letterbox import Letterbox
from vision.ssd import AnchorSpec, decode, nms, score_logit, sigmoid_scalar, ssd_anchors
from vision.tflite_model import LetterboxedModel

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Detection:
    """A person found in a crop.

    ``box`` is (x0, y0, x1, y1) relative to the crop (0..1, clipped): the
    circle MediaPipe draws around the whole body from the hip and scale
    keypoints. ``face`` is the face box the detector is anchored on, same frame;
    its centre is reliable, its size is not (the model regresses a nearly
    constant size, about a fifth of its input).
    """

    score: float
    box: Box
    face: Box


@runtime_checkable
class Detector(Protocol):
    """Anything that finds people in an RGB crop (LiteRT here, depthai on an OAK)."""

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections in ``image`` (H x W x 3 uint8), best first."""
        ...


def _to_crop(lb: Letterbox, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sx, sy = lb.to_source(x, y)
    return np.clip(sx, 0.0, 1.0), np.clip(sy, 0.0, 1.0)


class PoseDetector(LetterboxedModel):
    """MediaPipe pose_detection (224 x 224, face-anchored SSD) behind ``Detector``.

    It sees faces best: backs and profiles score low, so the analyzer uses it
    as one piece of evidence, never alone.
    """

    INPUT = 224
    SCALE = 2.0 / 255.0  # input range [-1, 1]
    OFFSET = -1.0

    def __init__(
        self,
        model_path: str | Path,
        threads: int = 1,
        min_score: float = 0.5,
        iou_threshold: float = 0.3,
        max_detections: int = 4,
    ) -> None:
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be in [0, 1], got {min_score}")
        self.min_score = min_score
        self.iou_threshold = iou_threshold
        self.max_detections = max_detections
        super().__init__(model_path, threads)
        self._raw = self.output_index("Identity")
        self._logits = self.output_index("Identity_1")
        self._anchors = ssd_anchors(AnchorSpec(input_size=self.INPUT))

    def infer(self) -> tuple[np.ndarray, np.ndarray]:
        """Run the model on the prepared tensor; raw regressions and score logits."""
        self.invoke()
        return self.tensor(self._raw)[0], self.tensor(self._logits)[0]

    def run(self, image: np.ndarray) -> tuple[list[Detection], float]:
        """Detections (as ``detect``) and the best raw score, from one model pass."""
        lb = self.prepare(image)
        return self.read(*self.infer(), lb)

    def run_many(self, images: Sequence[np.ndarray]) -> list[tuple[list[Detection], float]]:
        """``run`` on every image, preparing and decoding overlapped with inference."""
        return self.pipeline(images, self._outputs_copy, self._decode)

    def _outputs_copy(self) -> tuple[np.ndarray, ...]:
        return self.tensor(self._raw)[0], self.tensor(self._logits)[0]  # get_tensor copies

    def _decode(self, out: tuple[np.ndarray, ...], lb: Letterbox) -> tuple[
        list[Detection], float
    ]:
        return self.read(out[0], out[1], lb)

    def read(self, raw: np.ndarray, logits: np.ndarray, lb: Letterbox) -> tuple[
        list[Detection], float
    ]:
        """Detections (as ``detect``) and the best raw score, from the raw outputs."""
        top = float(logits.max(initial=-100.0))
        best = sigmoid_scalar(top)
        # Most zone crops hold no face: nothing to decode when no logit clears the bar.
        if top < score_logit(self.min_score):
            return [], best
        return self.postprocess(raw, logits, lb), best

    def best_score(self, image: np.ndarray) -> float:
        """Highest person score anywhere in ``image``, whatever ``min_score`` is."""
        return self.run(image)[1]

    def detect(self, image: np.ndarray) -> list[Detection]:
        """People in ``image`` scoring at least ``min_score``, after NMS, best first."""
        return self.run(image)[0]

    def postprocess(self, raw: np.ndarray, logits: np.ndarray, lb: Letterbox) -> list[Detection]:
        """Decode, suppress overlaps and map boxes back to the crop."""
        dec = decode(raw, logits, self._anchors, self.min_score, float(self.INPUT))
        if dec.scores.size == 0:
            return []
        keep = nms(dec.boxes, dec.scores, self.iou_threshold, self.max_detections)
        boxes = dec.boxes[keep]
        kp = dec.keypoints[keep]
        # Keypoint 0 is the hip centre, keypoint 1 lies on the circle enclosing the body.
        radius = np.linalg.norm(kp[:, 1] - kp[:, 0], axis=1)
        cx, cy = kp[:, 0, 0], kp[:, 0, 1]
        bx0, by0 = _to_crop(lb, cx - radius, cy - radius)
        bx1, by1 = _to_crop(lb, cx + radius, cy + radius)
        fx0, fy0 = _to_crop(lb, boxes[:, 0], boxes[:, 1])
        fx1, fy1 = _to_crop(lb, boxes[:, 2], boxes[:, 3])
        return [
            Detection(
                score=float(dec.scores[k]),
                box=(float(bx0[i]), float(by0[i]), float(bx1[i]), float(by1[i])),
                face=(float(fx0[i]), float(fy0[i]), float(fx1[i]), float(fy1[i])),
            )
            for i, k in enumerate(keep)
        ]
