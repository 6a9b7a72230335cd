"""The camera back-ends by ``[camera] type``: config model and class, loaded on demand."""

from __future__ import annotations

from hal.camera.config import FileCameraConfig, Picamera2CameraConfig, V4l2CameraConfig
from hal.camera.depthai_config import DepthaiCameraConfig
from hal.registry import Backend

CAMERAS = (
    Backend("file", FileCameraConfig, "hal.camera.file:FileCamera",
            diagnose="hal.camera.diagnose:diagnose_file"),
    Backend("picamera2", Picamera2CameraConfig, "hal.camera.picamera2_cam:Picamera2Camera"),
    Backend("v4l2", V4l2CameraConfig, "hal.camera.v4l2_cam:V4l2Camera"),
    Backend("depthai", DepthaiCameraConfig, "hal.camera.depthai_cam:DepthaiCamera"),
)
