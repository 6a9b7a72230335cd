"""USB (UVC) camera through FFmpeg's V4L2 demuxer, via PyAV.

``input_format`` is what the camera is asked to send. With ``"h264"`` its
Annex-B access units are recorded untouched (no re-encoding; SPS/PPS for the
recorder are cut from the first keyframe, as ``hal.camera.h264`` describes)
and decoded only to feed analysis. With ``"mjpeg"`` or ``"yuyv422"`` each
frame is decoded once, scaled down for analysis and encoded by libx264
(``hal.camera.x264.X264Stream``), so the recording looks like every other
back-end's. Kernel buffer timestamps are mapped onto the unit clock
(``hal.camera.live.ClockMap``); an unplugged or silent camera is reconnected
by ``hal.camera.live.supervise``. The sessions live in ``hal.camera.v4l2.session``.

The device is opened through ``opener`` (``av.open`` by default) so tests can
put a stand-in of the demuxer in its place; nothing is opened before start().
"""

from __future__ import annotations

import errno
import logging
import math
import os
import stat
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import av
import av.error

from hal.camera.base import CameraError
from hal.camera.live import LiveCamera, require_at_least, require_positive
from hal.camera.v4l2.session import PassthroughSession, ReencodeSession
from hal.camera.x264 import why

if TYPE_CHECKING:
    from hal.camera.config import V4l2CameraConfig

log = logging.getLogger(__name__)

InputFormat = Literal["h264", "mjpeg", "yuyv422"]
Opener = Callable[..., Any]
DEMUXER = "video4linux2"
_ABSENT = "no {dev}: is the USB camera plugged in? `ls /dev/v4l/by-id`"
# AVFMT_FLAG_NONBLOCK (0x0004) has no option name; "+4" ORs it into the defaults,
# and the v4l2 demuxer then opens the node O_NONBLOCK (checked with strace).
NONBLOCK_FFLAGS = "+4"
_FORMATS_HINT = "see what the camera offers with `v4l2-ctl -d {dev} --list-formats-ext`"


def check_device(device: Path) -> None:
    """Raise CameraError, saying what to check, unless ``device`` is a usable device node."""
    try:
        mode = os.stat(device).st_mode
    except FileNotFoundError:
        raise CameraError(_ABSENT.format(dev=device)) from None
    except OSError as exc:
        raise CameraError(f"{device}: cannot be examined ({exc.strerror or exc})") from None
    if not stat.S_ISCHR(mode):
        raise CameraError(
            f"{device} is not a device node: camera.device must be a V4L2 node "
            "such as /dev/video0 or a /dev/v4l/by-id/... link"
        )
    if not os.access(device, os.R_OK | os.W_OK):
        raise CameraError(f"{device}: permission denied: the service user needs the 'video' group")


def ffmpeg_rate(fps: float) -> str:
    """A frame rate as FFmpeg's ``framerate`` option parses it: "15", "30000/1001"."""
    rate = Fraction(fps).limit_denominator(1001)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def open_error(device: Path, code: int | None, reason: str, asked: str) -> CameraError:
    """A CameraError for a failed open, saying what to check for each errno."""
    if code in (errno.ENOENT, errno.ENXIO):
        return CameraError(_ABSENT.format(dev=device))
    if code == errno.ENODEV:
        return CameraError(
            f"{device}: not a video capture node, or gone ({reason}); UVC cameras also "
            "create a metadata node: list capture nodes with `v4l2-ctl --list-devices`"
        )
    if code == errno.ENOTTY:
        return CameraError(
            f"{device} is not a V4L2 device ({reason}); list cameras with `v4l2-ctl --list-devices`"
        )
    if code == errno.EBUSY:
        return CameraError(f"{device} is busy: another program holds it (`fuser -v {device}`)")
    if code in (errno.EACCES, errno.EPERM):
        return CameraError(f"{device}: permission denied: the service user needs the 'video' group")
    return CameraError(
        f"{device}: cannot capture {asked} ({reason}); " + _FORMATS_HINT.format(dev=device)
    )


class V4l2Camera(LiveCamera[PassthroughSession | ReencodeSession]):
    """A ``Camera`` on a V4L2 device; see the module docstring.

    ``width x height`` at ``fps`` in ``input_format`` is asked of the camera
    (the driver may pick the nearest it supports; the stream info says what
    came). Analysis frames are ``analysis_width`` wide at ``analysis_fps``.
    ``record_bitrate``, ``keyframe_interval_s`` and ``encoder_preset`` apply
    when re-encoding MJPEG/raw. ``frame_timeout_s`` without a frame counts as
    the camera lost; ``open_timeout_s`` bounds FFmpeg's probing at open.
    """

    @classmethod
    def from_config(cls, cfg: V4l2CameraConfig, clock: Callable[[], float]) -> V4l2Camera:
        """From its ``[camera]`` section; nothing opens until start()."""
        return cls(
            cfg.device, input_format=cfg.input_format, width=cfg.width, height=cfg.height,
            fps=cfg.fps, analysis_fps=cfg.analysis_fps, analysis_width=cfg.analysis_width,
            record_bitrate=cfg.record_bitrate, keyframe_interval_s=cfg.keyframe_interval_s,
            frame_timeout_s=cfg.frame_timeout_s, clock=clock,
        )

    def __init__(
        self,
        device: str | Path = "/dev/video0",
        *,
        input_format: InputFormat = "mjpeg",
        width: int = 1280,
        height: int = 720,
        fps: float = 15.0,
        analysis_fps: float = 5.0,
        analysis_width: int = 640,
        record_bitrate: int = 1_000_000,
        keyframe_interval_s: float = 1.0,
        encoder_preset: str = "veryfast",
        clock: Callable[[], float] = time.monotonic,
        frame_timeout_s: float = 2.0,
        open_timeout_s: float = 5.0,
        idle_period_s: float = 0.5,
        reconnect_initial_s: float = 0.25,
        reconnect_max_s: float = 4.0,
        poll_s: float = 0.005,
        opener: Opener = av.open,
    ) -> None:
        if input_format not in ("h264", "mjpeg", "yuyv422"):
            raise ValueError(f"input_format must be h264, mjpeg or yuyv422, got {input_format!r}")
        require_positive(fps=fps, analysis_fps=analysis_fps,
                         keyframe_interval_s=keyframe_interval_s, frame_timeout_s=frame_timeout_s,
                         open_timeout_s=open_timeout_s, poll_s=poll_s,
                         record_bitrate=record_bitrate)
        require_at_least(16, width=width, height=height, analysis_width=analysis_width)
        self.device = Path(device)
        super().__init__(
            f"USB camera {self.device}", clock, idle_period_s=idle_period_s,
            reconnect_initial_s=reconnect_initial_s, reconnect_max_s=reconnect_max_s,
        )
        self.input_format: InputFormat = input_format
        self.width, self.height = width, height
        self.fps = fps
        self.analysis_fps = analysis_fps
        self.analysis_width = analysis_width
        self.record_bitrate = record_bitrate
        self.keyframe_interval_s = keyframe_interval_s
        self.encoder_preset = encoder_preset
        self.frame_timeout_s = frame_timeout_s
        self.open_timeout_s = open_timeout_s
        self.poll_s = poll_s
        self._opener = opener
        self._pts_floor = -math.inf  # the earliest time a reopened session may stamp

    def demuxer_options(self) -> dict[str, str]:
        """What FFmpeg's v4l2 demuxer is asked for, under its own option names."""
        return {
            "input_format": self.input_format,
            "video_size": f"{self.width}x{self.height}",
            "framerate": ffmpeg_rate(self.fps),
        }

    def _log_started(self, session: PassthroughSession | ReencodeSession) -> None:
        info = session.info
        log.info(
            "%s started: %s %dx%d at %g fps, %s", self.name, self.input_format, info.width,
            info.height, self.fps,
            "recorded as delivered" if self.input_format == "h264" else "re-encoded to h264",
        )

    def _compare_sps(self) -> bool:
        # Re-encoded streams get libx264's SPS, the same while the size is.
        return self.input_format == "h264"

    def _open_session(self) -> PassthroughSession | ReencodeSession:
        check_device(self.device)
        container = self._open_container()
        try:
            if self.input_format == "h264":
                return PassthroughSession(self, container)
            return ReencodeSession(self, container)
        except BaseException:
            container.close()
            raise

    def _open_container(self) -> Any:
        asked = f"{self.input_format} {self.width}x{self.height} at {self.fps:g} fps"
        try:
            return self._opener(
                str(self.device),
                format=DEMUXER,
                options=self.demuxer_options(),
                # Non-blocking reads: see hal.camera.v4l2.session.
                container_options={"fflags": NONBLOCK_FFLAGS},
                timeout=self.open_timeout_s,
            )
        except av.error.FFmpegError as exc:
            raise open_error(self.device, exc.errno, why(exc), asked) from None
        except OSError as exc:
            raise open_error(self.device, exc.errno, exc.strerror or str(exc), asked) from None
