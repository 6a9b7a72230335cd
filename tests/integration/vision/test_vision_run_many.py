"""The overlapped ``run_many`` path equals the sequential one, bit for bit.

Real LiteRT, the real float16 and int8 models, crops of composed scenes.
"""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from vision.analyzer import SceneAnalyzer
from vision.compose.render import Renderer
from vision.compose.scenes import scene
from vision.detector import PoseDetector
from vision.evidence import Evidence, ModelScorer, Scorer
from vision.landmark import PoseLandmark
from vision.model_files import ModelFiles, Precision, resolve_model_files
from vision.params import AnalyzerParams
from vision.zones import DEFAULT_ZONES

SIZE = (640, 360)


def scene_frames(name: str, count: int) -> list[np.ndarray]:
    spec = dataclasses.replace(scene(name), size=SIZE)
    renderer = Renderer(spec)
    return [renderer.frame(spec.duration_s * (i + 0.5) / count) for i in range(count)]


@pytest.fixture(scope="module")
def crops() -> list[np.ndarray]:
    frames = scene_frames("demo_day", 6) + scene_frames("poster_face", 2)
    return [z.crop(f) for f in frames for z in DEFAULT_ZONES]


@pytest.fixture(scope="module", params=["float16", "int8"])
def files(request: pytest.FixtureRequest) -> ModelFiles:
    precision: Precision = request.param
    return resolve_model_files(precision)


def test_detector_run_many_equals_run(files: ModelFiles, crops: list[np.ndarray]) -> None:
    det = PoseDetector(files.detector, min_score=0.3)
    try:
        sequential = [det.run(c) for c in crops]
        assert any(found for found, _ in sequential)  # the comparison covers boxes too
        assert det.run_many(crops) == sequential
        assert det.run_many(crops[:2]) == sequential[:2]  # one frame's zones
        assert det.run_many(crops[:1]) == sequential[:1]
        assert det.run_many([]) == []
        # The input tensor left behind is a valid one for plain ``run``.
        assert det.run(crops[3]) == sequential[3]
    finally:
        det.close()


def test_run_many_does_the_work_itself_when_the_worker_is_busy(
    files: ModelFiles, crops: list[np.ndarray]
) -> None:
    """A worker that never gets to its jobs (no free core) costs no waiting and no result."""
    det = PoseDetector(files.detector, min_score=0.3)
    lm = PoseLandmark(files.landmark)
    release = threading.Event()
    try:
        sequential = [det.run(c) for c in crops], [lm.run(c) for c in crops]
        blockers = [m._worker().submit(release.wait, 60.0) for m in (det, lm)]
        assert det.run_many(crops) == sequential[0]
        assert lm.run_many(crops) == sequential[1]
        assert not any(b.done() for b in blockers)  # it all ran beside a stuck worker
        release.set()
        assert det.run_many(crops) == sequential[0]  # the worker's staging is still sound
        assert lm.run_many(crops) == sequential[1]
    finally:
        release.set()
        det.close()
        lm.close()


@pytest.mark.parametrize("min_score", [0.3, 0.5, 0.9])
def test_read_skips_decoding_only_when_nothing_would_survive(
    files: ModelFiles, crops: list[np.ndarray], min_score: float
) -> None:
    det = PoseDetector(files.detector, min_score=min_score)
    skipped = 0
    for crop in crops:
        lb = det.prepare(crop)
        raw, logits = det.infer()
        found, best = det.read(raw, logits, lb)
        assert found == det.postprocess(raw, logits, lb)
        assert best == pytest.approx(float(1 / (1 + np.exp(-np.float64(logits.max())))))
        skipped += not found
    assert 0 < skipped < len(crops) or min_score == 0.9


def test_landmark_run_many_equals_run(files: ModelFiles, crops: list[np.ndarray]) -> None:
    lm = PoseLandmark(files.landmark)
    try:
        sequential = [lm.run(c) for c in crops]
        assert len({r.presence for r in sequential}) > 3
        assert lm.run_many(crops) == sequential
        assert lm.run_many(crops[::-1]) == sequential[::-1]  # geometry changes both ways
        assert lm.run(crops[0]) == sequential[0]
    finally:
        lm.close()


def test_scorer_score_many_equals_score(files: ModelFiles, crops: list[np.ndarray]) -> None:
    # Ambiguous band widened and every cell foreground so the detector and
    # the ROI pass run on some crops, not only the landmark.
    scorer = ModelScorer(files)
    scorer.params = dataclasses.replace(scorer.params, ambiguous=(0.0, 0.99), face_score=0.3)
    masks = [None if i % 3 == 0 else np.ones((8, 8), bool) for i in range(len(crops))]
    items = list(zip(crops, masks, strict=True))
    sequential = [scorer.score(c, m) for c, m in items]
    assert any(e.roi is not None for e in sequential)
    assert any(e.posedet is not None for e in sequential)
    assert scorer.score_many(items) == sequential


class OneByOne:
    """The real scorer without ``score_many``: the analyzer's sequential path."""

    def __init__(self, inner: ModelScorer) -> None:
        self.inner = inner

    def score(self, crop: np.ndarray, mask: np.ndarray | None) -> Evidence:
        return self.inner.score(crop, mask)


def test_analyzer_batched_equals_sequential(files: ModelFiles) -> None:
    spec = dataclasses.replace(scene("demo_day"), size=SIZE)
    renderer = Renderer(spec)
    scorer = ModelScorer(files)
    sequential: Scorer = OneByOne(scorer)
    runs: list[list[object]] = []
    for s in (scorer, sequential):
        analyzer = SceneAnalyzer(DEFAULT_ZONES, AnalyzerParams(), scorer=s)
        seen: list[object] = []
        for i in range(30):
            t = i * 0.5
            seen.append(analyzer.process(renderer.frame(t), t))
            for z in DEFAULT_ZONES:
                last = analyzer.last(z.name)
                assert last is not None
                seen.append((analyzer.released(z.name), last.mode, last.evidence))
        runs.append(seen)
    assert any(isinstance(x, tuple) and x[2] is not None for x in runs[0])  # models ran
    assert runs[0] == runs[1]
