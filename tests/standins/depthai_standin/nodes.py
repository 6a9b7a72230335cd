"""STAND-IN device nodes of depthai v3 (Camera, VideoEncoder, DetectionNetwork).

Each records what the back-end asked for (build arguments, setter calls,
requested outputs, queues) with depthai's own parameter names and defaults;
``tests/integration/hal/camera/test_camera_depthai_standin.py`` checks every name
against the installed depthai. The pump in ``device.py`` then plays the
recorded graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import depthai as dai


@dataclass
class StandinOutput:
    """A node output: what was requested, where it is linked, its real host queues."""

    node: Any
    name: str
    size: tuple[int, int] | None = None
    type: Any = None
    resize_mode: Any = None
    fps: float | None = None
    queues: list[dai.MessageQueue] = field(default_factory=list)
    links: list[Any] = field(default_factory=list)

    def createOutputQueue(self, maxSize: int = 16, blocking: bool = False) -> dai.MessageQueue:
        """A real ``dai.MessageQueue``; the pump sends real messages into it."""
        q = dai.MessageQueue(f"{self.name}", maxSize, blocking)
        self.queues.append(q)
        return q

    def link(self, input: Any) -> None:
        self.links.append(input)

    def send(self, msg: Any) -> None:
        for q in self.queues:
            q.send(msg)  # a full non-blocking queue drops its oldest, as on the device

    def close(self) -> None:
        for q in self.queues:
            q.close()


class StandinNode:
    """Base: remembers its pipeline and every setter call in order."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))


class Camera(StandinNode):
    """STAND-IN ``dai.node.Camera``: a sensor played from the stand-in's video file."""

    def __init__(self, pipeline: Any) -> None:
        super().__init__(pipeline)
        self.board_socket: Any = None
        self.outputs: list[StandinOutput] = []

    def build(self, boardSocket: Any = None, sensorResolution: Any = None,
              sensorFps: Any = None) -> Camera:
        self.board_socket = boardSocket
        self._record("build", boardSocket, sensorResolution, sensorFps)
        return self

    def requestOutput(self, size: tuple[int, int], type: Any = None,
                      resizeMode: Any = dai.ImgResizeMode.CROP, fps: float | None = None,
                      enableUndistortion: Any = None) -> StandinOutput:
        out = StandinOutput(self, f"camera_{len(self.outputs)}", (size[0], size[1]), type,
                           resizeMode, fps)
        self.outputs.append(out)
        return out


class VideoEncoder(StandinNode):
    """STAND-IN ``dai.node.VideoEncoder``: the pump encodes with PyAV's libx264."""

    def __init__(self, pipeline: Any) -> None:
        super().__init__(pipeline)
        self.input: StandinOutput | None = None
        self.out = StandinOutput(self, "encoded")
        self.bitrate = 0
        self.frame_rate = 30.0
        self.profile = dai.VideoEncoderProperties.Profile.H264_BASELINE
        self.keyframe_frequency = 30
        self.num_b_frames = 0
        self.rate_control: Any = dai.VideoEncoderProperties.RateControlMode.CBR

    def build(self, input: StandinOutput, bitrate: float = 0, frameRate: float = 30.0,
              profile: Any = dai.VideoEncoderProperties.Profile.H264_BASELINE,
              keyframeFrequency: int = 30, lossless: bool = False,
              quality: int = 80) -> VideoEncoder:
        self._record("build", input, bitrate, frameRate, profile, keyframeFrequency)
        input.link(self)
        self.input = input
        self.bitrate = int(bitrate)
        self.frame_rate = frameRate
        self.profile = profile
        self.keyframe_frequency = keyframeFrequency
        return self

    def setBitrate(self, bitrate: int) -> None:
        self._record("setBitrate", bitrate)
        self.bitrate = bitrate

    def setKeyframeFrequency(self, freq: int) -> None:
        self._record("setKeyframeFrequency", freq)
        self.keyframe_frequency = freq

    def setNumBFrames(self, numBFrames: int) -> None:
        self._record("setNumBFrames", numBFrames)
        self.num_b_frames = numBFrames

    def setRateControlMode(self, mode: Any) -> None:
        self._record("setRateControlMode", mode)
        self.rate_control = mode

    def setProfile(self, profile: Any) -> None:
        self._record("setProfile", profile)
        self.profile = profile

    def setFrameRate(self, frameRate: float) -> None:
        self._record("setFrameRate", frameRate)
        self.frame_rate = frameRate


class NNArchive:
    """STAND-IN ``dai.NNArchive``: keeps the path; a missing file fails as the real one does."""

    def __init__(self, archivePath: str) -> None:
        from pathlib import Path

        if not Path(archivePath).exists():
            raise RuntimeError(f"Archive file does not exist: {archivePath}")
        self.path = str(archivePath)


class DetectionNetwork(StandinNode):
    """STAND-IN ``dai.node.DetectionNetwork``: the stand-in's ``detector`` plays the model."""

    def __init__(self, pipeline: Any) -> None:
        super().__init__(pipeline)
        self.source: Any = None
        self.archive: NNArchive | None = None
        self.fps: float | None = None
        self.resize_mode: Any = None
        self.confidence_threshold = 0.5
        self.out = StandinOutput(self, "detections")
        self.passthrough = StandinOutput(self, "passthrough")

    def build(self, input: Any, model: Any, fps: float | None = None,
              resizeMode: Any = None) -> DetectionNetwork:
        if not isinstance(model, NNArchive):
            raise TypeError("stand-in DetectionNetwork.build takes an NNArchive")
        self._record("build", input, model, fps, resizeMode)
        self.source, self.archive, self.fps, self.resize_mode = input, model, fps, resizeMode
        return self

    def setConfidenceThreshold(self, thresh: float) -> None:
        self._record("setConfidenceThreshold", thresh)
        self.confidence_threshold = thresh
