"""Raspberry Pi camera through picamera2: hardware/libav H.264 main stream, lores for analysis.

The main stream is encoded once, by the Pi 4's H.264 block
(``picamera2.encoders.H264Encoder``) or by libx264 through
``LibavH264Encoder`` (Pi 5, which has no encoder block), and handed to a
picamera2 ``Output`` subclass that queues the packets; it is never decoded
again. Analysis reads the low-resolution "lores" YUV420 stream of the same
requests and converts it to RGB at ``analysis_fps``. Both carry the sensor
timestamp, mapped onto the unit clock (see ``hal.camera.live.ClockMap``).

The encoders repeat SPS/PPS before every keyframe; ``start()`` waits for the
first keyframe and cuts them out for ``StreamInfo.extradata`` (Annex-B, as
libx264 gives the file camera). picamera2 is imported in ``start()`` only, so
this module loads anywhere.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import queue
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import av
import numpy as np

from hal.camera.base import CameraError, Capture, Frame, Packet, StreamInfo
from hal.camera.h264 import parameter_sets
from hal.camera.live import ClockMap, DeviceLost, LiveCamera, require_positive
from hal.camera.x264 import next_grid_point

if TYPE_CHECKING:
    from hal.camera.config import Picamera2CameraConfig

log = logging.getLogger(__name__)

EncoderChoice = Literal["auto", "hardware", "libav"]
_LIST_HINT = "check the ribbon cable and `rpicam-hello --list-cameras`"


def choose_encoder(choice: EncoderChoice, hardware_available: bool) -> Literal["hardware", "libav"]:
    """Which H.264 encoder to use; raises CameraError if "hardware" is asked of a Pi without one."""
    if choice == "libav":
        return "libav"
    if hardware_available:
        return "hardware"
    if choice == "hardware":
        raise CameraError(
            "camera.encoder = 'hardware' but this Pi has no H.264 encoder block "
            "(Pi 5): use 'auto' or 'libav'"
        )
    return "libav"


def yuv420_to_rgb(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """RGB (H x W x 3) from picamera2's YUV420 array: ``(height * 3 / 2, stride)`` bytes.

    The U and V planes are half-stride rows packed two to a row of the array,
    so padding has to be cut per plane, not off the array's right edge.
    """
    stride = array.shape[1]
    flat = array.reshape(-1)
    y_size = height * stride
    c_stride, c_h, c_w = stride // 2, height // 2, width // 2
    c_size = c_h * c_stride
    y = flat[:y_size].reshape(height, stride)[:, :width]
    u = flat[y_size : y_size + c_size].reshape(c_h, c_stride)[:, :c_w]
    v = flat[y_size + c_size : y_size + 2 * c_size].reshape(c_h, c_stride)[:, :c_w]
    packed = np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)])
    frame = av.VideoFrame.from_ndarray(packed.reshape(height * 3 // 2, width), format="yuv420p")
    return frame.to_ndarray(format="rgb24")


class _PacketSink:
    """Mixed into picamera2's ``Output`` at start(): queues what the encoder emits.

    ``outputframe`` runs on picamera2's threads (the camera loop for libav, the
    V4L2 poll thread for the hardware encoder), so it only enqueues.
    """

    def __init__(self) -> None:
        super().__init__()
        self.items: queue.SimpleQueue[tuple[bytes, bool, int | None]] = queue.SimpleQueue()

    def outputframe(
        self,
        frame: Any,
        keyframe: bool = True,
        timestamp: int | None = None,
        packet: Any = None,
        audio: bool = False,
    ) -> None:
        if audio or frame is None:
            return
        self.items.put((bytes(frame), bool(keyframe), timestamp))


class Picamera2Camera(LiveCamera["_Session"]):
    """A ``Camera`` on a Raspberry Pi camera module; see the module docstring.

    ``width x height`` at ``fps`` is the recorded stream; ``lores_width x
    lores_height`` the analysis frames. ``frame_timeout_s`` without a frame
    counts as the camera lost (a loose ribbon cable makes libcamera go quiet
    rather than fail).
    """

    @classmethod
    def from_config(cls, cfg: Picamera2CameraConfig, clock: Callable[[], float]) -> Picamera2Camera:
        """From its ``[camera]`` section; nothing opens until start()."""
        return cls(
            camera_index=cfg.camera_index, width=cfg.width, height=cfg.height, fps=cfg.fps,
            bitrate=cfg.bitrate, keyframe_interval_s=cfg.keyframe_interval_s,
            lores_width=cfg.lores_width, lores_height=cfg.lores_height,
            analysis_fps=cfg.analysis_fps, encoder=cfg.encoder,
            frame_timeout_s=cfg.frame_timeout_s, clock=clock,
        )

    def __init__(
        self,
        *,
        camera_index: int = 0,
        width: int = 1280,
        height: int = 720,
        fps: float = 15.0,
        bitrate: int = 1_500_000,
        keyframe_interval_s: float = 1.0,
        lores_width: int = 640,
        lores_height: int = 360,
        analysis_fps: float = 5.0,
        encoder: EncoderChoice = "auto",
        clock: Callable[[], float] = time.monotonic,
        frame_timeout_s: float = 2.0,
        idle_period_s: float = 0.5,
        reconnect_initial_s: float = 0.25,
        reconnect_max_s: float = 4.0,
    ) -> None:
        require_positive(fps=fps, analysis_fps=analysis_fps,
                         keyframe_interval_s=keyframe_interval_s, frame_timeout_s=frame_timeout_s)
        if lores_width > width or lores_height > height:
            raise ValueError("the lores stream cannot be larger than the main stream")
        super().__init__(
            f"Pi camera {camera_index}", clock, idle_period_s=idle_period_s,
            reconnect_initial_s=reconnect_initial_s, reconnect_max_s=reconnect_max_s,
        )
        self.camera_index = camera_index
        self.size = (width, height)
        self.lores_size = (lores_width, lores_height)
        self.fps = fps
        self.bitrate = bitrate
        self.iperiod = max(1, round(fps * keyframe_interval_s))
        self.analysis_period = 1.0 / analysis_fps
        self.encoder_choice: EncoderChoice = encoder
        self.frame_timeout_s = frame_timeout_s

    def _open_session(self) -> _Session:
        # Opening waits for the first keyframe's SPS/PPS (see _Session).
        return _Session(self)

    def _log_started(self, session: _Session) -> None:
        log.info(
            "%s started: %dx%d h264 at %.1f fps (%s encoder), lores %dx%d",
            self.name, *self.size, self.fps, session.encoder_kind, *self.lores_size,
        )


class _Session:
    """One open span of the camera: Picamera2 object, encoder and packet sink."""

    def __init__(self, cam: Picamera2Camera) -> None:
        self.cam = cam
        self._map = ClockMap(cam._clock)
        self._pending: list[Packet] = []
        self._keyed = False  # a keyframe has been seen: packets before one are useless
        self._last_pts = -math.inf
        self._picam: Any = None
        self._encoder: Any = None
        self._timed_out = False
        modules = _import_picamera2(cam.name)
        self._open(*modules)
        try:
            extradata = self._await_keyframe()
        except DeviceLost as exc:
            self.close()
            raise CameraError(f"{cam.name}: started but delivers no frames ({exc})") from None
        except BaseException:
            self.close()
            raise
        self.info = StreamInfo(kind="video", codec="h264", extradata=extradata,
                               width=cam.size[0], height=cam.size[1], fps=cam.fps)

    def _open(self, pc2: ModuleType, encoders: ModuleType, outputs: ModuleType,
              platform: ModuleType) -> None:
        cam = self.cam
        try:
            attached = pc2.Picamera2.global_camera_info()
        except (RuntimeError, OSError) as exc:
            raise CameraError(f"{cam.name}: libcamera cannot list cameras ({exc})") from None
        if cam.camera_index >= len(attached):
            raise CameraError(
                f"{cam.name}: not found ({len(attached)} camera(s) attached); {_LIST_HINT}"
            )
        hardware = platform.get_platform() == platform.Platform.VC4
        self.encoder_kind = choose_encoder(cam.encoder_choice, hardware)
        try:
            self._picam = pc2.Picamera2(camera_num=cam.camera_index)
            config = self._picam.create_video_configuration(
                main={"size": cam.size, "format": "YUV420"},
                lores={"size": cam.lores_size, "format": "YUV420"},
                controls={"FrameRate": cam.fps},
            )
            self._picam.configure(config)
            # repeat=True: SPS/PPS before every keyframe, so a clip can start at any.
            if self.encoder_kind == "hardware":
                self._encoder = encoders.H264Encoder(
                    bitrate=cam.bitrate, repeat=True, iperiod=cam.iperiod, framerate=cam.fps
                )
            else:
                self._encoder = encoders.LibavH264Encoder(
                    bitrate=cam.bitrate, repeat=True, iperiod=cam.iperiod, framerate=cam.fps
                )
            sink_class = type("PacketOutput", (_PacketSink, outputs.Output), {})
            self._sink = sink_class()
            self._picam.start_encoder(self._encoder, self._sink, name="main")
            self._picam.start()
        except (RuntimeError, OSError, ValueError) as exc:
            self.close()
            raise CameraError(f"{cam.name}: cannot start ({exc}); {_LIST_HINT}") from None

    def _await_keyframe(self) -> bytes:
        """Pull requests until the encoder produced a keyframe carrying SPS/PPS."""
        cam = self.cam
        for _ in range(cam.iperiod * 3 + 2):
            request = self._next_request()
            request.release()
            self._drain()
            for p in self._pending:
                if p.keyframe and (found := parameter_sets(p.data)) is not None:
                    return found
        raise CameraError(f"{cam.name}: the encoder produced no keyframe with SPS/PPS")

    def _next_request(self) -> Any:
        try:
            return self._picam.capture_request(wait=self.cam.frame_timeout_s)
        except TimeoutError:
            self._timed_out = True
            raise DeviceLost(f"no frame for {self.cam.frame_timeout_s:.1f} s") from None
        except (RuntimeError, OSError) as exc:
            raise DeviceLost(str(exc) or type(exc).__name__) from None

    def _drain(self) -> None:
        """Move encoded packets from the sink to ``_pending``, on the unit clock."""
        period = 1.0 / self.cam.fps
        first_us = getattr(self._encoder, "firsttimestamp", None) or 0
        while True:
            try:
                data, keyframe, ts_us = self._sink.items.get_nowait()
            except queue.Empty:
                return
            self._keyed = self._keyed or keyframe
            if not self._keyed:
                continue
            if ts_us is None:
                pts = self._last_pts + period
            else:  # encoder timestamps count from its first frame's sensor time
                pts = self._map((first_us + ts_us) / 1e6)
            if pts <= self._last_pts:
                continue  # the muxer would drop it anyway; keep the stream monotonic
            self._last_pts = pts
            self._pending.append(Packet("video", data, pts, period, keyframe))

    def captures(self) -> Iterator[Capture]:
        cam = self.cam
        stop = cam._stop
        t0: float | None = None  # analysis frames sit on a grid from the first frame
        next_analysis = -math.inf
        while not stop.is_set():
            request = self._next_request()
            try:
                sensor_ns = request.get_metadata()["SensorTimestamp"]
                t = self._map(sensor_ns / 1e9)
                frame = None
                if t >= next_analysis - 1e-6:
                    lores = request.make_array("lores")
                    frame = Frame(yuv420_to_rgb(lores, *cam.lores_size), t)
                    t0 = t if t0 is None else t0
                    next_analysis = t0 + next_grid_point(t - t0, cam.analysis_period)
            finally:
                request.release()
            self._drain()
            packets, self._pending = tuple(self._pending), []
            newest = max([t, *(p.pts for p in packets)])
            yield Capture(newest, frame, packets)

    def close(self) -> None:
        picam = self._picam
        if picam is None:
            return
        self._picam = None
        if self._timed_out:
            # What picamera2 asks for after a timeout (e.g. a dislodged cable).
            with contextlib.suppress(Exception):
                picam.cancel_all_and_flush()
        for step in (picam.stop_encoder, picam.stop, picam.close):
            with contextlib.suppress(Exception):  # the device may be gone: release what we can
                step()


def _import_picamera2(name: str) -> tuple[ModuleType, ModuleType, ModuleType, ModuleType]:
    try:
        return (
            importlib.import_module("picamera2"),
            importlib.import_module("picamera2.encoders"),
            importlib.import_module("picamera2.outputs"),
            importlib.import_module("picamera2.platform"),
        )
    except ImportError as exc:
        raise CameraError(
            f"{name}: picamera2 is not installed ({exc}); on Raspberry Pi OS: "
            "apt install python3-picamera2"
        ) from None
