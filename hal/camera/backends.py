"""The camera back-ends by ``[camera] type``: config model and class, loaded on demand."""

from __future__ import annotations

from hal.camera.config import FileCameraConfig, Picamera2CameraConfig, V4l2CameraConfig
from hal.camera.depthai.config import DepthaiCameraConfig
from hal.registry import Backend

# Each diagnosis answers the "camera: configured" row; doctor passes it the machine's
# camera inventory as ``inventory=`` (hal/camera/inventory/listing.py).
CAMERAS = (
    Backend("file", FileCameraConfig, "hal.camera.file.camera:FileCamera",
            diagnose="hal.camera.file.diagnose:diagnose_file"),
    Backend("picamera2", Picamera2CameraConfig, "hal.camera.picamera2.camera:Picamera2Camera",
            diagnose="hal.camera.picamera2.diagnose:diagnose_picamera2"),
    Backend("v4l2", V4l2CameraConfig, "hal.camera.v4l2.camera:V4l2Camera",
            diagnose="hal.camera.v4l2.diagnose:diagnose_v4l2"),
    Backend("depthai", DepthaiCameraConfig, "hal.camera.depthai.camera:DepthaiCamera",
            diagnose="hal.camera.depthai.diagnose:diagnose_depthai"),
)
