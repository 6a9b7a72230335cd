"""Back-ends chosen by the ``type`` keys of the config (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config import (
    EvdevBadgeConfig,
    FileCameraConfig,
    SilentMicConfig,
    UnitConfig,
    WavMicConfig,
)
from hal.badge.base import BadgeReader
from hal.camera.base import Camera
from hal.keypad.base import Keypad
from hal.mic.base import Microphone

Clock = Callable[[], float]


def build_camera(cfg: UnitConfig, clock: Clock) -> Camera:
    cam = cfg.camera
    if isinstance(cam, FileCameraConfig):
        from hal.camera.file import FileCamera

        return FileCamera(
            cam.path, analysis_fps=cam.analysis_fps, analysis_width=cam.analysis_width,
            record_width=cam.record_width, record_height=cam.record_height,
            record_bitrate=cam.record_bitrate, keyframe_interval_s=cam.keyframe_interval_s,
            realtime=cam.realtime, clock=clock,
        )
    raise ValueError(f"camera.type {cam.type!r} has no back-end")  # pragma: no cover


def build_microphone(cfg: UnitConfig, clock: Clock) -> Microphone:
    mic = cfg.microphone
    if isinstance(mic, WavMicConfig):
        from hal.mic.wav import WavMicrophone

        return WavMicrophone(mic.path, realtime=mic.realtime, clock=clock)
    if isinstance(mic, SilentMicConfig):
        from hal.mic.silent import SilentMicrophone

        # Live, the unit clock is monotonic time: silence starts now, not at 0.
        return SilentMicrophone(sample_rate=mic.sample_rate, start_t=clock())
    raise ValueError(f"microphone.type {mic.type!r} has no back-end")  # pragma: no cover


def build_keypad(cfg: UnitConfig, clock: Clock) -> Keypad | None:
    if cfg.keypad is None:
        return None
    from hal.keypad.serial_keypad import SerialKeypad

    return SerialKeypad(cfg.keypad.url, clock=clock, baudrate=cfg.keypad.baudrate)


def build_badge(cfg: UnitConfig, clock: Clock) -> BadgeReader | None:
    badge = cfg.badge
    if badge is None:
        return None
    if isinstance(badge, EvdevBadgeConfig):
        from hal.badge.evdev_badge import EvdevBadgeReader

        return EvdevBadgeReader(str(badge.device), clock=clock, grab=badge.grab)
    from hal.badge.serial_badge import SerialBadgeReader

    return SerialBadgeReader(badge.url, clock=clock, baudrate=badge.baudrate)
