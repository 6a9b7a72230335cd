"""STAND-IN for the device side of depthai v3: devices, pipeline, and its pump.

``DepthaiStandin`` is passed where the back-end takes the ``depthai`` module.
Message, queue and enum types are the REAL depthai ones; only what needs an
OAK is stood in: device enumeration/opening, the on-device nodes, and
running them. On ``start()`` the pipeline runs a REAL host-only
``dai.Pipeline(False)`` whose REAL ``ReplayVideo`` node plays the video file
as the sensor (real ImgFrames, real host steady-clock timestamps). A pump
thread turns each frame into what the device would send: a real
``dai.EncodedFrame`` holding real H.264 from libx264 (SPS/PPS before every
IDR, as the OAK's encoder does), real RGB888i preview ``ImgFrame``s at the
requested size and rate, and real ``ImgDetections`` from ``detector`` (which
plays the model). ``unplug()`` closes every queue (as a USB loss does) and
hides the device until ``plug()``.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import depthai as dai
import numpy as np
from av.video.codeccontext import VideoCodecContext

from .nodes import Camera, DetectionNetwork, NNArchive, StandinOutput, VideoEncoder

# (label, confidence, (xmin, ymin, xmax, ymax) normalised) for one frame
Detector = Callable[[np.ndarray, float], Sequence[tuple[int, float, tuple[float, ...]]]]

_PROFILES = {
    dai.VideoEncoderProperties.Profile.H264_BASELINE: "baseline",
    dai.VideoEncoderProperties.Profile.H264_MAIN: "main",
    dai.VideoEncoderProperties.Profile.H264_HIGH: "high",
}


class DepthaiStandin:
    """STAND-IN for the ``depthai`` module; see the module docstring."""

    # Real depthai types: what the back-end reads from messages is the real thing.
    ImgFrame = dai.ImgFrame
    EncodedFrame = dai.EncodedFrame
    ImgDetections = dai.ImgDetections
    MessageQueue = dai.MessageQueue
    CameraBoardSocket = dai.CameraBoardSocket
    VideoEncoderProperties = dai.VideoEncoderProperties
    ImgResizeMode = dai.ImgResizeMode
    NNArchive = NNArchive
    node = SimpleNamespace(Camera=Camera, VideoEncoder=VideoEncoder,
                           DetectionNetwork=DetectionNetwork)

    def __init__(self, video: Path, *, device_ids: Sequence[str] = ("18443010C1E4F51200",),
                 detector: Detector | None = None) -> None:
        self.video = Path(video)
        self.device_ids = list(device_ids)
        self.detector = detector
        self.pipelines: list[StandinPipeline] = []
        self.opened: list[str] = []
        self._plugged = True
        self._lock = threading.Lock()
        standin = self

        class Device(StandinDevice):
            _standin = standin

        class Pipeline(StandinPipeline):
            _standin = standin

        self.Device = Device
        self.Pipeline = Pipeline

    @property
    def plugged(self) -> bool:
        return self._plugged

    def unplug(self) -> None:
        """The cable is pulled: running pipelines die, their queues close."""
        with self._lock:
            self._plugged = False
            running = list(self.pipelines)
        for p in running:
            p.die()

    def plug(self) -> None:
        with self._lock:
            self._plugged = True

    def device_infos(self) -> list[dai.DeviceInfo]:
        if not self._plugged:
            return []
        return [dai.DeviceInfo(f"1.{i + 1}", did, dai.XLinkDeviceState.X_LINK_UNBOOTED,
                               dai.XLinkProtocol.X_LINK_USB_VSC, dai.XLinkPlatform.X_LINK_MYRIAD_X,
                               dai.XLinkError_t.X_LINK_SUCCESS)
                for i, did in enumerate(self.device_ids)]


class StandinDevice:
    """STAND-IN ``dai.Device``: enumerates and opens the stand-in's devices."""

    _standin: DepthaiStandin

    @classmethod
    def getAllAvailableDevices(cls) -> list[dai.DeviceInfo]:
        return cls._standin.device_infos()

    def __init__(self, deviceInfo: dai.DeviceInfo) -> None:
        ids = [i.getDeviceId() for i in self._standin.device_infos()]
        if deviceInfo.getDeviceId() not in ids:
            raise RuntimeError(f"No available devices ({deviceInfo.getDeviceId()})")
        self.device_id = deviceInfo.getDeviceId()
        self.max_reconnection_attempts: int | None = None
        self.closed = False
        self._standin.opened.append(self.device_id)

    def setMaxReconnectionAttempts(self, maxAttempts: int, callback: Any = None) -> None:
        self.max_reconnection_attempts = maxAttempts

    def getDeviceId(self) -> str:
        return self.device_id

    def isClosed(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


class StandinPipeline:
    """STAND-IN ``dai.Pipeline(device)``: records nodes, plays them on start()."""

    _standin: DepthaiStandin

    def __init__(self, defaultDevice: StandinDevice) -> None:
        self.device = defaultDevice
        self.nodes: list[Any] = []
        self.started = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._host: Any = None
        self.encoded_sent = 0

    def create(self, arg0: type, /) -> Any:
        node = arg0(self)
        self.nodes.append(node)
        return node

    def nodes_of(self, cls: type) -> list[Any]:
        return [n for n in self.nodes if isinstance(n, cls)]

    def isRunning(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        cams = self.nodes_of(Camera)
        if len(cams) != 1 or cams[0].board_socket is None:
            raise RuntimeError("stand-in pipeline: expected one built Camera node")
        if self.device.closed:
            raise RuntimeError("Device already closed or disconnected")
        cam = cams[0]
        # The sensor runs at the fastest rate any output asks for, at the largest size.
        fps = max(o.fps or 30.0 for o in cam.outputs)
        width, height = max((o.size for o in cam.outputs), key=lambda s: s[0] * s[1])
        host = dai.Pipeline(False)
        replay = host.create(dai.node.ReplayVideo)
        replay.setReplayVideoFile(self._standin.video)
        replay.setOutFrameType(dai.ImgFrame.Type.RGB888i)
        replay.setSize(width, height)
        replay.setFps(fps)
        replay.setLoop(True)
        sensor = replay.out.createOutputQueue(maxSize=4, blocking=True)
        host.start()
        self._host = host
        self.started = True
        with self._standin._lock:
            self._standin.pipelines.append(self)
        self._thread = threading.Thread(target=self._pump, args=(sensor, cam), daemon=True,
                                        name="depthai-standin-pump")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        self._close_all()

    def die(self) -> None:
        """USB loss: the device stops sending and every host queue closes."""
        self.device.closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close_all()

    def _close_all(self) -> None:
        if self._host is not None:
            self._host.stop()
            self._host.wait()
            self._host = None
        for n in self.nodes:
            for out in _outputs(n):
                out.close()
        with self._standin._lock:
            if self in self._standin.pipelines:
                self._standin.pipelines.remove(self)

    # ---- the device's work -------------------------------------------------------

    def _pump(self, sensor: dai.MessageQueue, cam: Camera) -> None:
        encoders = [(e, _Encoder(e)) for e in self.nodes_of(VideoEncoder)]
        previews = [o for o in cam.outputs if not any(o is e.input for e, _ in encoders)]
        networks = self.nodes_of(DetectionNetwork)
        due: dict[int, float] = {}
        while not self._stop.is_set():
            msg: Any = sensor.get(datetime.timedelta(milliseconds=50))
            if msg is None:
                continue
            rgb = msg.getFrame()
            t = msg.getTimestamp().total_seconds()
            for enc, codec in encoders:
                for data, key in codec.encode(rgb):
                    packet = dai.EncodedFrame()
                    packet.setData(_u8(np.frombuffer(data, dtype=np.uint8)))
                    packet.setFrameType(dai.EncodedFrame.FrameType.I if key
                                        else dai.EncodedFrame.FrameType.P)
                    packet.setProfile(dai.EncodedFrame.Profile.AVC)
                    packet.setWidth(codec.width)
                    packet.setHeight(codec.height)
                    _stamp(packet, msg, codec.count)
                    codec.count += 1
                    enc.out.send(packet)
                    self.encoded_sent += 1
            for out in previews:
                if _take(due, id(out), t, out.fps):
                    out.send(_img_frame(rgb, out.size, msg))
            for nn in networks:
                if _take(due, id(nn), t, nn.fps):
                    nn.out.send(self._detections(nn, rgb, t, msg))

    def _detections(self, nn: DetectionNetwork, rgb: np.ndarray, t: float,
                    src: dai.ImgFrame) -> dai.ImgDetections:
        found = self._standin.detector(rgb, t) if self._standin.detector else ()
        dets = []
        for label, conf, box in found:
            if conf < nn.confidence_threshold:  # the device filters before sending
                continue
            d = dai.ImgDetection()
            d.label, d.confidence = label, conf
            d.xmin, d.ymin, d.xmax, d.ymax = box
            dets.append(d)
        msg = dai.ImgDetections()
        msg.detections = dets
        _stamp(msg, src, src.getSequenceNum())
        return msg


class _Encoder:
    """libx264 set up the way the recorded VideoEncoder node was."""

    def __init__(self, node: VideoEncoder) -> None:
        assert node.input is not None and node.input.size is not None
        self.width, self.height = node.input.size
        ctx = av.CodecContext.create("libx264", "w")
        assert isinstance(ctx, VideoCodecContext)
        ctx.width, ctx.height, ctx.pix_fmt = self.width, self.height, "yuv420p"
        ctx.time_base = Fraction(1, 90_000)
        ctx.framerate = Fraction(node.frame_rate).limit_denominator(1001)
        ctx.bit_rate = node.bitrate or 2_000_000
        ctx.gop_size = node.keyframe_frequency
        ctx.max_b_frames = node.num_b_frames
        ctx.options = {
            "preset": "ultrafast", "tune": "zerolatency", "profile": _PROFILES[node.profile],
            # The OAK's encoder puts SPS/PPS in front of every IDR, with no global header.
            "x264-params": f"scenecut=0:repeat-headers=1:keyint={node.keyframe_frequency}"
                           f":min-keyint={node.keyframe_frequency}",
        }
        ctx.open()
        self.ctx = ctx
        self.count = 0

    def encode(self, rgb: np.ndarray) -> list[tuple[bytes, bool]]:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        frame.pts = self.count * 3000
        frame.time_base = self.ctx.time_base
        return [(bytes(p), p.is_keyframe) for p in self.ctx.encode(frame)]


def _take(due: dict[int, float], key: int, t: float, fps: float | None) -> bool:
    """Frame-rate decimation of one output: is the frame at ``t`` one it sends?"""
    if fps is None:
        return True
    nxt = due.get(key)
    if nxt is not None and t < nxt - 1e-3:
        return False
    due[key] = (t if nxt is None or t - nxt > 1.0 / fps else nxt) + 1.0 / fps
    return True


def _stamp(out: Any, src: dai.ImgFrame, seq: int) -> None:
    out.setTimestamp(src.getTimestamp())
    out.setTimestampDevice(src.getTimestampDevice())
    out.setSequenceNum(seq)


def _img_frame(rgb: np.ndarray, size: tuple[int, int] | None, src: dai.ImgFrame) -> dai.ImgFrame:
    w, h = size or (rgb.shape[1], rgb.shape[0])
    small = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    arr = small.reformat(width=w, height=h, format="rgb24").to_ndarray()
    out = dai.ImgFrame()
    out.setType(dai.ImgFrame.Type.RGB888i)
    out.setWidth(w)
    out.setHeight(h)
    out.setData(_u8(arr.reshape(-1)))
    _stamp(out, src, src.getSequenceNum())
    return out


def _u8(arr: np.ndarray) -> Any:
    """depthai's stubs want uint8 arrays; ours are, numpy's typing cannot tell."""
    return arr.astype(np.uint8, copy=False)


def _outputs(node: Any) -> list[StandinOutput]:
    if isinstance(node, Camera):
        return node.outputs
    if isinstance(node, VideoEncoder):
        return [node.out]
    if isinstance(node, DetectionNetwork):
        return [node.out, node.passthrough]
    return []
