"""Pure parts of the OAK back-end (no depthai): H.264 framing, clocks, pairing."""

from __future__ import annotations

import numpy as np
import pytest

from hal.camera.base import Frame
from hal.camera.depthai.stream import (
    ClockMapper,
    DetectedFrame,
    DetectionPairer,
    DeviceDetection,
    Monotonic,
    SequenceGuard,
    clip_box,
    detections_of,
    has_idr,
    parameter_sets,
    split_nals,
)

SPS, PPS, IDR, SLICE = b"\x67\x42\x00\x1f", b"\x68\xce\x3c\x80", b"\x65\x88\x84", b"\x41\x9a\x02"


@pytest.mark.parametrize(("data", "units"), [
    (b"", []),
    (b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS, [SPS, PPS]),
    (b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS + b"\x00\x00\x00\x01" + IDR,
     [SPS, PPS, IDR]),
    (b"\x00\x00\x01" + SLICE, [SLICE]),
    (b"\x00\x00\x01\x00\x00\x01" + SLICE, [SLICE]),  # empty unit dropped
])
def test_split_nals(data: bytes, units: list[bytes]) -> None:
    assert split_nals(data) == units


@pytest.mark.parametrize(("units", "idr", "extradata"), [
    ([SPS, PPS, IDR], True, b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS),
    ([IDR], True, None),
    ([SPS, IDR], True, None),
    ([SLICE], False, None),
])
def test_idr_and_parameter_sets(units: list[bytes], idr: bool, extradata: bytes | None) -> None:
    assert has_idr(units) is idr
    assert parameter_sets(units) == extradata


def test_clock_mapper_keeps_the_smallest_delay_and_never_maps_after_arrival() -> None:
    m = ClockMapper()
    # source at 10.0 arrives at unit 100.05 (50 ms late), then one only 10 ms late
    assert m.map(10.0, 100.05) == pytest.approx(100.05)
    assert m.map(10.1, 100.11) == pytest.approx(100.11)
    assert m.map(10.2, 100.30) == pytest.approx(100.21)  # a slow one does not shift time
    m.reset()
    assert m.map(10.3, 200.0) == pytest.approx(200.0)


def test_monotonic_pushes_repeats_and_reversals_forward() -> None:
    mono = Monotonic(0.01)
    assert [mono(t) for t in (1.0, 1.0, 0.5, 2.0)] == pytest.approx([1.0, 1.01, 1.02, 2.0])


@pytest.mark.parametrize(("seqs", "keys", "passed"), [
    ([0, 1, 2], [True, False, False], [True, True, True]),
    ([0, 1], [False, True], [False, True]),  # wait for the first keyframe
    ([0, 1, 3, 4, 5], [True, False, False, True, False], [True, True, False, True, True]),
])
def test_sequence_guard_holds_back_after_a_gap(seqs: list[int], keys: list[bool],
                                               passed: list[bool]) -> None:
    guard = SequenceGuard()
    assert [guard.accept(s, k) for s, k in zip(seqs, keys, strict=True)] == passed


def _frame(t: float) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), t)


PERSON = (DeviceDetection(0, 0.9, (0.1, 0.1, 0.5, 0.9)),)


def test_pairer_matches_by_capture_time_within_tolerance() -> None:
    p = DetectionPairer(tolerance=0.02, max_wait=1.0, expect_detections=True)
    p.add_frame(_frame(1.0), arrival=1.05)
    assert p.ready(now=1.06) == []  # waits for its detections
    p.add_detections(1.005, PERSON)
    [out] = p.ready(now=1.1)
    assert (out.t, out.detections) == (1.0, PERSON)


def test_pairer_releases_a_frame_whose_detections_were_skipped_or_stalled() -> None:
    p = DetectionPairer(tolerance=0.02, max_wait=0.5, expect_detections=True)
    p.add_frame(_frame(1.0), arrival=1.0)
    p.add_frame(_frame(1.2), arrival=1.2)
    p.add_detections(0.8, ())  # older than any frame: dropped
    p.add_detections(1.2, ())  # the network skipped 1.0
    out = p.ready(now=1.25)
    assert [(f.t, f.detections) for f in out] == [(1.0, None), (1.2, ())]
    p.add_frame(_frame(1.4), arrival=1.4)
    assert p.ready(now=1.8) == []
    [late] = p.ready(now=1.9)
    assert late.detections is None


def test_pairer_without_a_network_passes_frames_through() -> None:
    p = DetectionPairer(tolerance=0.02, max_wait=1.0, expect_detections=False)
    p.add_frame(_frame(1.0), arrival=1.0)
    [out] = p.ready(now=1.0)
    assert isinstance(out, DetectedFrame) and detections_of(out) is None
    assert detections_of(_frame(2.0)) is None


def test_detected_frame_is_a_frame_and_clip_box_clamps() -> None:
    f = DetectedFrame(np.zeros((2, 2, 3), np.uint8), 1.0, PERSON)
    assert isinstance(f, Frame) and detections_of(f) == PERSON
    assert clip_box(-0.1, 0.2, 1.3, 0.9) == (0.0, 0.2, 1.0, 0.9)
