"""SSD anchors, box decoding and non-maximum suppression (pure numpy).

The anchor layout reproduces MediaPipe's SsdAnchorsCalculator for the
pose_detection model, so the raw regressions can be decoded without the
MediaPipe graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class AnchorSpec:
    """SSD anchor options (MediaPipe names); defaults are pose_detection's."""

    input_size: int = 224
    strides: tuple[int, ...] = (8, 16, 32, 32, 32)
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: float = 0.5
    # With fixed-size anchors every anchor is 1 x 1, so aspect ratios and scales
    # only set how many anchors share a cell: one per aspect ratio plus one
    # interpolated scale, per layer.
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale: bool = True


def ssd_anchors(spec: AnchorSpec = AnchorSpec()) -> np.ndarray:
    """Anchor centres as an (N, 2) float32 array of (x, y) in 0..1, model order.

    Consecutive layers with the same stride share one feature map, so their
    anchors are interleaved per cell, exactly as MediaPipe lays them out.
    """
    per_cell = len(spec.aspect_ratios) + (1 if spec.interpolated_scale else 0)
    blocks: list[np.ndarray] = []
    layer = 0
    while layer < len(spec.strides):
        stride = spec.strides[layer]
        same = 0
        while layer < len(spec.strides) and spec.strides[layer] == stride:
            same += 1
            layer += 1
        fm = int(np.ceil(spec.input_size / stride))
        coords = (np.arange(fm, dtype=np.float32) + spec.anchor_offset) / fm
        ys, xs = np.meshgrid(coords, coords, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        blocks.append(np.repeat(cells, same * per_cell, axis=0))
    return np.concatenate(blocks).astype(np.float32)


def sigmoid(logits: np.ndarray, clip: float = 100.0) -> np.ndarray:
    """Logistic function with MediaPipe's score clipping."""
    # float64 so exp(clip) cannot overflow (float32 tops out near exp(88)).
    return 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -clip, clip)))


def sigmoid_scalar(logit: float, clip: float = 100.0) -> float:
    """``sigmoid`` of one value with plain floats (a tenth of the numpy call's cost)."""
    return 1.0 / (1.0 + math.exp(-min(clip, max(-clip, logit))))


def score_logit(min_score: float) -> float:
    """The logit a score must reach to be at least ``min_score`` (sigmoid is monotonic)."""
    if min_score <= 0.0:
        return -math.inf
    if min_score >= 1.0:
        return 100.0  # the clip: only a saturated logit scores 1.0
    return math.log(min_score / (1.0 - min_score))


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded candidates: boxes (N, 4) x0,y0,x1,y1, keypoints (N, K, 2), scores (N,)."""

    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


def decode(
    raw: np.ndarray,
    logits: np.ndarray,
    anchors: np.ndarray,
    min_score: float,
    scale: float = 224.0,
    num_keypoints: int = 4,
) -> Decoded:
    """Decode raw regressions (N, 4 + 2K) against fixed-size anchors.

    Only candidates scoring at least ``min_score`` are decoded, which keeps the
    cost proportional to what survives rather than to the 2254 anchors.
    Coordinates come out relative to the model input (0..1).
    """
    if raw.shape[0] != anchors.shape[0] or logits.shape[0] != anchors.shape[0]:
        raise ValueError(
            f"{raw.shape[0]} regressions / {logits.shape[0]} scores for {anchors.shape[0]} anchors"
        )
    flat = logits.reshape(-1)
    # sigmoid is monotonic: compare logits with logit(min_score), then take the
    # sigmoid of the few survivors only.
    if min_score <= 0.0:
        keep = np.arange(flat.size)
    else:
        keep = np.flatnonzero(flat >= score_logit(min_score))
    r = raw[keep].astype(np.float32) / scale
    a = anchors[keep]
    cx = r[:, 0] + a[:, 0]
    cy = r[:, 1] + a[:, 1]
    half_w = r[:, 2] / 2
    half_h = r[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    kp = r[:, 4 : 4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2) + a[:, None, :]
    return Decoded(boxes, kp, sigmoid(flat[keep]))


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (4,) against boxes (N, 4)."""
    ix0 = np.maximum(box[0], boxes[:, 0])
    iy0 = np.maximum(box[1], boxes[:, 1])
    ix1 = np.minimum(box[2], boxes[:, 2])
    iy1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, max_out: int) -> np.ndarray:
    """Indices kept by greedy NMS, best score first.

    Each round keeps the best remaining box and drops every box overlapping it
    by more than ``iou_threshold``; the IoU of a round is one vector operation.
    """
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size and len(kept) < max_out:
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        order = rest[iou(boxes[best], boxes[rest]) <= iou_threshold]
    return np.asarray(kept, dtype=np.int64)
