"""The camera back-end chosen by ``camera.type`` (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config import UnitConfig
from firmware.config_camera import FileCameraConfig, Picamera2CameraConfig, V4l2CameraConfig
from firmware.config_camera_depthai import DepthaiCameraConfig
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
            realtime=cam.realtime, clock=clock, copy_h264=cam.copy_h264,
        )
    if isinstance(cam, Picamera2CameraConfig):
        from hal.camera.picamera2_cam import Picamera2Camera

        return Picamera2Camera(
            camera_index=cam.camera_index, width=cam.width, height=cam.height, fps=cam.fps,
            bitrate=cam.bitrate, keyframe_interval_s=cam.keyframe_interval_s,
            lores_width=cam.lores_width, lores_height=cam.lores_height,
            analysis_fps=cam.analysis_fps, encoder=cam.encoder,
            frame_timeout_s=cam.frame_timeout_s, clock=clock,
        )
    if isinstance(cam, V4l2CameraConfig):
        from hal.camera.v4l2_cam import V4l2Camera

        return V4l2Camera(
            cam.device, input_format=cam.input_format, width=cam.width, height=cam.height,
            fps=cam.fps, analysis_fps=cam.analysis_fps, analysis_width=cam.analysis_width,
            record_bitrate=cam.record_bitrate, keyframe_interval_s=cam.keyframe_interval_s,
            frame_timeout_s=cam.frame_timeout_s, clock=clock,
        )
    if isinstance(cam, DepthaiCameraConfig):
        from hal.camera.depthai_cam import DepthaiCamera
        from hal.camera.depthai_pipeline import DepthaiSettings

        return DepthaiCamera(DepthaiSettings(**cam.model_dump(exclude={"type"})), clock=clock)
    raise ValueError(f"camera.type {cam.type!r} has no back-end")  # pragma: no cover
