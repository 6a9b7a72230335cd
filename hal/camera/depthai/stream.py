"""Pure pieces of the depthai camera: H.264 framing, clock mapping, detections.

Nothing here touches depthai or a device, so each piece is tested table-first.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from hal.camera.base import Frame
from hal.camera.h264 import NAL_IDR, NAL_PPS, NAL_SPS, START_CODE, nal_type, nal_units

Box = tuple[float, float, float, float]


def split_nals(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B buffer (start codes removed, empty units dropped)."""
    return nal_units(data)


def has_idr(units: list[bytes]) -> bool:
    """Does the access unit hold an IDR slice (a point a decoder can start from)?"""
    return any(nal_type(u) == NAL_IDR for u in units)


def parameter_sets(units: list[bytes]) -> bytes | None:
    """SPS and PPS of an access unit as Annex-B extradata, or None if either is missing.

    Unlike ``hal.camera.h264.parameter_sets`` it keeps every SPS and PPS the
    unit holds, not just the first of each (an OAK sends one of each).

    The mp4 muxer turns Annex-B extradata into the ``avcC`` box itself, as it
    does for libx264's global header in the file camera.
    """
    sps = [u for u in units if nal_type(u) == NAL_SPS]
    pps = [u for u in units if nal_type(u) == NAL_PPS]
    if not sps or not pps:
        return None
    return b"".join(START_CODE + u for u in (*sps, *pps))


class ClockMapper:
    """Maps source timestamps (seconds) onto the unit clock.

    ``arrival - source`` is the true offset plus the transport delay, so its
    minimum over the samples seen is the best estimate of the offset: a mapped
    time is the capture time plus the smallest delay observed, and never later
    than when the message actually arrived.
    """

    def __init__(self) -> None:
        self._offset: float | None = None

    def map(self, source_t: float, arrival: float) -> float:
        offset = arrival - source_t
        if self._offset is None or offset < self._offset:
            self._offset = offset
        return source_t + self._offset

    def reset(self) -> None:
        """Forget the offset (a new device, a new time sync)."""
        self._offset = None


class Monotonic:
    """Keeps a stream of times strictly increasing by at least ``step``."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.last = -math.inf

    def __call__(self, t: float) -> float:
        if t < self.last + self.step:
            t = self.last + self.step
        self.last = t
        return t


class SequenceGuard:
    """Spots dropped encoder messages by their sequence numbers.

    A dropped P-frame breaks every frame after it up to the next IDR, so after
    a gap packets are held back until a keyframe comes.
    """

    def __init__(self) -> None:
        self._last: int | None = None
        self.need_keyframe = True

    def accept(self, seq: int, keyframe: bool) -> bool:
        """Should the packet with ``seq`` be passed on?"""
        if self._last is not None and seq != self._last + 1:
            self.need_keyframe = True
        self._last = seq
        if self.need_keyframe and not keyframe:
            return False
        self.need_keyframe = False
        return True

    def reset(self) -> None:
        self._last = None
        self.need_keyframe = True


@dataclass(frozen=True, slots=True)
class DeviceDetection:
    """A detection made on the OAK: class ``label``, ``score`` 0..1, and ``box``.

    ``box`` is (x0, y0, x1, y1) relative to the whole analysis frame (0..1,
    clipped): the network and the preview both see the full field of view.
    """

    label: int
    score: float
    box: Box


@dataclass(frozen=True, slots=True)
class DetectedFrame(Frame):
    """An analysis frame with what the device's network found in it.

    ``detections`` is None when no network runs or its result for this frame
    never came, and ``()`` when it ran and found nobody.
    """

    detections: tuple[DeviceDetection, ...] | None = None


def detections_of(frame: Frame) -> tuple[DeviceDetection, ...] | None:
    """On-device detections of ``frame``, or None for frames without them."""
    return frame.detections if isinstance(frame, DetectedFrame) else None


def clip_box(x0: float, y0: float, x1: float, y1: float) -> Box:
    def c(v: float) -> float:
        return min(1.0, max(0.0, v))

    return (c(x0), c(y0), c(x1), c(y1))


class DetectionPairer:
    """Joins analysis frames with the detections for the same sensor frame.

    The preview and the network are separate outputs of one camera, so their
    messages carry the same capture time but arrive independently. A frame is
    released when detections within ``tolerance`` of its time arrive, when
    later detections show its own will not come, or after ``max_wait`` (the
    network stalled) with ``detections=None``. Without a network
    (``expect_detections=False``) frames pass straight through.
    """

    def __init__(self, tolerance: float, max_wait: float, expect_detections: bool) -> None:
        self.tolerance = tolerance
        self.max_wait = max_wait
        self.expect = expect_detections
        self._frames: deque[tuple[Frame, float]] = deque()  # (frame, arrival)
        self._dets: deque[tuple[float, tuple[DeviceDetection, ...]]] = deque()

    def add_frame(self, frame: Frame, arrival: float) -> None:
        self._frames.append((frame, arrival))

    def add_detections(self, t: float, dets: tuple[DeviceDetection, ...]) -> None:
        self._dets.append((t, dets))

    def ready(self, now: float) -> list[DetectedFrame]:
        """Frames whose fate is decided, oldest first."""
        out: list[DetectedFrame] = []
        while self._frames:
            frame, arrival = self._frames[0]
            if not self.expect:
                dets: tuple[DeviceDetection, ...] | None = None
            else:
                # Detections older than this frame belong to frames already gone.
                while self._dets and self._dets[0][0] < frame.t - self.tolerance:
                    self._dets.popleft()
                if self._dets and abs(self._dets[0][0] - frame.t) <= self.tolerance:
                    dets = self._dets.popleft()[1]
                elif self._dets or now - arrival >= self.max_wait:
                    dets = None  # later detections came first, or the network stalled
                else:
                    break
            self._frames.popleft()
            out.append(DetectedFrame(frame.image, frame.t, dets))
        return out

    def clear(self) -> None:
        self._frames.clear()
        self._dets.clear()
