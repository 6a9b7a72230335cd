"""The camera back-end chosen by ``camera.type`` (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config import FileCameraConfig, UnitConfig
from hal.camera.base import Camera

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
