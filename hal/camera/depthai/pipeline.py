"""The depthai v3 pipeline the OAK camera runs, and finding the device to run it on.

Graph (all on the device; only three queues cross USB)::

    Camera(CAM_A) --NV12 record size @fps--> VideoEncoder(H.264, CBR, no B) --> q "video"
           |--RGB888i preview size @analysis_fps (stretch) --------------------> q "preview"
           `--(model input, stretch) @analysis_fps--> DetectionNetwork --------> q "detections"

Preview and network input are both stretched from the full sensor field of
view, so a detection's normalised box applies to the preview as it is.
``dai`` is the depthai module (or a stand-in with the same API), passed in so
nothing here imports depthai at module load.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hal.camera.base import CameraError

NO_DEVICE_HINT = "check the USB cable (USB3 port, powered hub) and the udev rule for 03e7"


@dataclass(frozen=True, slots=True)
class DepthaiSettings:
    """What the OAK camera is asked to do; the fields mirror ``DepthaiCameraConfig``."""

    device_id: str | None = None
    record_width: int = 1280
    record_height: int = 720
    fps: float = 15.0
    record_bitrate: int = 512_000
    keyframe_interval_s: float = 1.0
    preview_width: int = 640
    preview_height: int = 360
    analysis_fps: float = 5.0
    model_path: Path | None = None
    person_label: int = 0
    confidence_threshold: float = 0.5

    @property
    def keyframe_frequency(self) -> int:
        return max(1, round(self.fps * self.keyframe_interval_s))

    @property
    def video_queue_size(self) -> int:
        """Two seconds of encoded frames: a host hiccup drops nothing."""
        return max(8, math.ceil(self.fps * 2))


@dataclass(slots=True)
class Session:
    """One opened device with its running pipeline and output queues."""

    device: Any
    pipeline: Any
    video: Any
    preview: Any
    detections: Any | None
    device_id: str

    def close(self) -> None:
        """Stop the pipeline and release the device; a device already gone is fine."""
        for step in (self.pipeline.stop, self.device.close):
            with contextlib.suppress(RuntimeError):
                step()


def find_device(dai: Any, device_id: str | None) -> Any:
    """The ``DeviceInfo`` to open; CameraError naming what is missing otherwise."""
    try:
        found = list(dai.Device.getAllAvailableDevices())
    except RuntimeError as exc:
        raise CameraError(f"cannot list OAK devices ({exc}); {NO_DEVICE_HINT}") from None
    if not found:
        want = f"OAK device {device_id}" if device_id else "OAK device"
        raise CameraError(f"no {want} found over USB; {NO_DEVICE_HINT}")
    if device_id is None:
        return found[0]
    for info in found:
        if device_id in (info.getDeviceId(), info.name):
            return info
    others = ", ".join(f"{i.getDeviceId()} ({i.name})" for i in found)
    raise CameraError(f"OAK device {device_id} not found (found: {others}); {NO_DEVICE_HINT}")


def open_session(dai: Any, s: DepthaiSettings) -> Session:
    """Find and open the device, build and start the pipeline."""
    info = find_device(dai, s.device_id)
    device_id = info.getDeviceId() or info.name
    try:
        device = dai.Device(info)
    except RuntimeError as exc:
        raise CameraError(
            f"OAK device {device_id}: cannot open ({exc}); {NO_DEVICE_HINT}"
        ) from None
    try:
        # The camera reconnects itself (with frame-less captures meanwhile);
        # depthai's own blocking reconnection would stall the unit loop.
        device.setMaxReconnectionAttempts(0)
        pipeline = dai.Pipeline(device)
        session = _build(dai, pipeline, device, device_id, s)
        pipeline.start()
    except RuntimeError as exc:
        with contextlib.suppress(RuntimeError):
            device.close()
        raise CameraError(f"OAK device {device_id}: cannot start the pipeline ({exc})") from None
    return session


def _build(dai: Any, pipeline: Any, device: Any, device_id: str, s: DepthaiSettings) -> Session:
    cam = pipeline.create(dai.node.Camera).build(dai.CameraBoardSocket.CAM_A)
    video = cam.requestOutput(
        (s.record_width, s.record_height), type=dai.ImgFrame.Type.NV12, fps=s.fps
    )
    enc = pipeline.create(dai.node.VideoEncoder).build(
        video,
        frameRate=s.fps,
        profile=dai.VideoEncoderProperties.Profile.H264_MAIN,
        keyframeFrequency=s.keyframe_frequency,
    )
    enc.setRateControlMode(dai.VideoEncoderProperties.RateControlMode.CBR)
    enc.setBitrate(s.record_bitrate)
    # The recorder muxes pts == dts: no frame may be reordered.
    enc.setNumBFrames(0)
    preview = cam.requestOutput(
        (s.preview_width, s.preview_height),
        type=dai.ImgFrame.Type.RGB888i,
        resizeMode=dai.ImgResizeMode.STRETCH,
        fps=s.analysis_fps,
    )
    det_queue = None
    if s.model_path is not None:
        archive = dai.NNArchive(str(s.model_path))
        nn = pipeline.create(dai.node.DetectionNetwork).build(
            cam, archive, fps=s.analysis_fps, resizeMode=dai.ImgResizeMode.STRETCH
        )
        nn.setConfidenceThreshold(s.confidence_threshold)
        det_queue = nn.out.createOutputQueue(maxSize=8, blocking=False)
    return Session(
        device=device,
        pipeline=pipeline,
        video=enc.out.createOutputQueue(maxSize=s.video_queue_size, blocking=False),
        preview=preview.createOutputQueue(maxSize=4, blocking=False),
        detections=det_queue,
        device_id=device_id,
    )
