"""The camera back-ends by ``[camera] type``: config model and class, loaded on demand."""

from __future__ import annotations

from hal.camera.config import FileCameraConfig, Picamera2CameraConfig, V4l2CameraConfig
from hal.camera.depthai_config import DepthaiCameraConfig
from hal.registry import Backend

# Each diagnosis answers the "camera: configured" row; doctor passes it the machine's
# camera inventory as ``inventory=`` (hal/camera/inventory.py).
CAMERAS = (
    Backend("file", FileCameraConfig, "hal.camera.file:FileCamera",
            diagnose="hal.camera.file_diagnose:diagnose_file"),
    Backend("picamera2", Picamera2CameraConfig, "hal.camera.picamera2_cam:Picamera2Camera",
            diagnose="hal.camera.picamera2_diagnose:diagnose_picamera2"),
    Backend("v4l2", V4l2CameraConfig, "hal.camera.v4l2_cam:V4l2Camera",
            diagnose="hal.camera.v4l2_diagnose:diagnose_v4l2"),
    Backend("depthai", DepthaiCameraConfig, "hal.camera.depthai_cam:DepthaiCamera",
            diagnose="hal.camera.depthai_diagnose:diagnose_depthai"),
)
