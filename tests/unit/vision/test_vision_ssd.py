"""SSD anchors, decoding and NMS against hand-computed values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vision.ssd import (
    AnchorSpec,
    decode,
    iou,
    nms,
    score_logit,
    sigmoid,
    sigmoid_scalar,
    ssd_anchors,
)


def test_pose_detection_has_2254_anchors() -> None:
    assert ssd_anchors().shape == (2254, 2)


@pytest.mark.parametrize(
    ("index", "xy"),
    [
        (0, (0.5 / 28, 0.5 / 28)),  # stride 8: first cell, first of 2 anchors
        (1, (0.5 / 28, 0.5 / 28)),  # ... second anchor of the same cell
        (2, (1.5 / 28, 0.5 / 28)),  # next cell along x (x varies fastest)
        (2 * 28, (0.5 / 28, 1.5 / 28)),  # first cell of the second row
        (1567, (27.5 / 28, 27.5 / 28)),  # last stride-8 anchor
        (1568, (0.5 / 14, 0.5 / 14)),  # first stride-16 anchor
        (1568 + 392, (0.5 / 7, 0.5 / 7)),  # first stride-32 anchor: 3 layers x 2 per cell
        (1568 + 392 + 5, (0.5 / 7, 0.5 / 7)),  # sixth anchor still in that cell
        (1568 + 392 + 6, (1.5 / 7, 0.5 / 7)),
        (2253, (6.5 / 7, 6.5 / 7)),
    ],
)
def test_anchor_positions(index: int, xy: tuple[float, float]) -> None:
    np.testing.assert_allclose(ssd_anchors()[index], xy, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("spec", "count"),
    [
        (AnchorSpec(input_size=224, strides=(8,)), 28 * 28 * 2),
        (AnchorSpec(input_size=224, strides=(32, 32)), 7 * 7 * 4),
        (AnchorSpec(input_size=128, strides=(8, 16, 16, 16), interpolated_scale=False),
         16 * 16 + 8 * 8 * 3),
    ],
)
def test_anchor_counts_follow_layers(spec: AnchorSpec, count: int) -> None:
    assert len(ssd_anchors(spec)) == count


def test_decode_offsets_boxes_and_keypoints_from_anchors() -> None:
    anchors = np.array([[0.25, 0.5], [0.75, 0.5]], np.float32)
    raw = np.zeros((2, 12), np.float32)
    raw[1, :4] = [22.4, -11.2, 44.8, 67.2]  # dx=.1 dy=-.05 w=.2 h=.3 of 224
    raw[1, 4:6] = [11.2, 0.0]  # first keypoint .05 right of the anchor
    logits = np.array([[-5.0], [3.0]], np.float32)
    dec = decode(raw, logits, anchors, min_score=0.5, scale=224.0)
    assert dec.scores.shape == (1,)  # the low-scoring anchor is not decoded
    np.testing.assert_allclose(dec.scores, [sigmoid(np.array(3.0))], rtol=1e-6)
    np.testing.assert_allclose(dec.boxes[0], [0.75, 0.3, 0.95, 0.6], atol=1e-6)
    np.testing.assert_allclose(dec.keypoints[0, 0], [0.8, 0.5], atol=1e-6)
    np.testing.assert_allclose(dec.keypoints[0, 1], [0.75, 0.5], atol=1e-6)


def test_decode_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="anchors"):
        decode(np.zeros((3, 12)), np.zeros((3, 1)), np.zeros((2, 2)), 0.5)


def test_sigmoid_clips_without_overflow_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(np.array([-1e4, 0.0, 1e4], np.float32))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0], atol=1e-30)


@pytest.mark.parametrize("logit", [-1e4, -100.0, -7.5, -0.3, 0.0, 0.3, 2.0, 88.0, 100.0, 1e4])
def test_scalar_sigmoid_matches_the_array_one(logit: float) -> None:
    assert sigmoid_scalar(logit) == pytest.approx(float(sigmoid(np.array(logit))), rel=1e-12)


@pytest.mark.parametrize(
    ("min_score", "expected"),
    [(0.0, -np.inf), (-0.5, -np.inf), (0.5, 0.0), (0.9, np.log(9.0)), (1.0, 100.0)],
)
def test_score_logit_is_the_bar_decode_applies(min_score: float, expected: float) -> None:
    assert score_logit(min_score) == pytest.approx(expected)


@pytest.mark.parametrize("min_score", [0.3, 0.5, 0.9])
def test_a_logit_at_the_bar_is_decoded_and_one_just_below_is_not(min_score: float) -> None:
    bar = score_logit(min_score)
    anchors = np.full((2, 2), 0.5, np.float32)
    raw = np.zeros((2, 12), np.float32)
    logits = np.array([[bar], [np.nextafter(bar, -np.inf)]], np.float64)
    dec = decode(raw, logits, anchors, min_score)
    assert dec.scores.size == 1


@pytest.mark.parametrize(
    ("box", "boxes", "expected"),
    [
        ((0, 0, 1, 1), [(0, 0, 1, 1)], [1.0]),
        ((0, 0, 1, 1), [(1, 1, 2, 2)], [0.0]),
        ((0, 0, 2, 2), [(1, 0, 3, 2)], [1 / 3]),
        ((0, 0, 2, 2), [(0.5, 0.5, 1.5, 1.5)], [0.25]),
        ((0, 0, 0, 0), [(0, 0, 0, 0)], [0.0]),  # degenerate: no division by zero
    ],
)
def test_iou(box: tuple, boxes: list, expected: list) -> None:
    np.testing.assert_allclose(iou(np.array(box, float), np.array(boxes, float)), expected)


@pytest.mark.parametrize(
    ("boxes", "scores", "threshold", "max_out", "kept"),
    [
        ([], [], 0.3, 5, []),
        ([(0, 0, 1, 1), (2, 2, 3, 3)], [0.6, 0.9], 0.3, 5, [1, 0]),  # disjoint: both, best first
        ([(0, 0, 1, 1), (0, 0, 1, 1)], [0.6, 0.9], 0.3, 5, [1]),  # duplicate suppressed
        ([(0, 0, 2, 2), (1, 0, 3, 2)], [0.9, 0.8], 0.3, 5, [0]),  # IoU 1/3 > 0.3
        ([(0, 0, 2, 2), (1, 0, 3, 2)], [0.9, 0.8], 0.4, 5, [0, 1]),  # IoU 1/3 <= 0.4
        # chain: B overlaps A and C, A and C do not; B suppressed by A, C survives
        ([(0, 0, 2, 2), (1, 0, 3, 2), (2, 0, 4, 2)], [0.9, 0.8, 0.7], 0.3, 5, [0, 2]),
        ([(0, 0, 1, 1), (2, 2, 3, 3), (4, 4, 5, 5)], [0.5, 0.9, 0.7], 0.3, 2, [1, 2]),
        ([(0, 0, 1, 1), (2, 2, 3, 3)], [0.5, 0.5], 0.3, 5, [0, 1]),  # ties keep input order
    ],
)
def test_nms_table(boxes: list, scores: list, threshold: float, max_out: int, kept: list) -> None:
    b = np.array(boxes, float).reshape(-1, 4)
    s = np.array(scores, float)
    assert nms(b, s, threshold, max_out).tolist() == kept
