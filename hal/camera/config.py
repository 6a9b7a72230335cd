"""``[camera]`` section: one model per back-end, chosen by ``type``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hal.camera.depthai.config import DepthaiCameraConfig
from hal.config_base import Strict


class FileCameraConfig(Strict):
    type: Literal["file"] = Field("file", description="Play a video file as the camera.")
    path: Path = Field(..., description="Video file to play.")
    realtime: bool = Field(True, description="Pace to the file's timestamps (False: replay).")
    analysis_fps: float = Field(5.0, gt=0, le=30, description="Frames per second analysed.")
    analysis_width: int = Field(640, ge=160, le=1920, description="Width of analysis frames.")
    record_width: int = Field(1280, ge=160, le=3840, description="Recorded video width.")
    record_height: int = Field(720, ge=120, le=2160, description="Recorded video height.")
    record_bitrate: int = Field(
        512_000, ge=64_000, le=8_000_000, description="Recorded video bit rate (bit/s)."
    )
    keyframe_interval_s: float = Field(
        1.0, ge=0.2, le=5.0, description="Keyframe spacing; bounds the loss at a power cut."
    )
    copy_h264: bool = Field(
        False, description="Record the file's own H.264 when it is camera-like (replay sets it)."
    )


class Picamera2CameraConfig(Strict):
    type: Literal["picamera2"] = Field(..., description="Raspberry Pi camera via picamera2.")
    camera_index: int = Field(0, ge=0, le=7, description="Which attached Pi camera (0 = first).")
    width: int = Field(1280, ge=320, le=1920, multiple_of=2, description="Recorded width.")
    height: int = Field(720, ge=240, le=1080, multiple_of=2, description="Recorded height.")
    fps: float = Field(15.0, ge=1, le=60, description="Sensor and recording frame rate.")
    bitrate: int = Field(
        1_500_000, ge=100_000, le=25_000_000, description="Recorded H.264 bit rate (bit/s)."
    )
    keyframe_interval_s: float = Field(
        1.0, ge=0.2, le=5.0, description="Keyframe spacing; bounds the loss at a power cut."
    )
    lores_width: int = Field(
        640, ge=64, le=1280, multiple_of=2, description="Analysis (lores stream) width."
    )
    lores_height: int = Field(
        360, ge=48, le=720, multiple_of=2, description="Analysis (lores stream) height."
    )
    analysis_fps: float = Field(5.0, gt=0, le=30, description="Frames per second analysed.")
    encoder: Literal["auto", "hardware", "libav"] = Field(
        "auto", description="H.264 encoder: Pi 4 hardware block, libx264 (Pi 5), or auto."
    )
    frame_timeout_s: float = Field(
        2.0, ge=0.2, le=30, description="No frame for this long counts as the camera lost."
    )

    @model_validator(mode="after")
    def _lores_fits(self) -> Picamera2CameraConfig:
        if self.lores_width > self.width or self.lores_height > self.height:
            raise ValueError("lores_width/lores_height must not exceed width/height")
        return self


class V4l2CameraConfig(Strict):
    type: Literal["v4l2"] = Field(..., description="USB (UVC) camera via V4L2.")
    device: Path = Field(
        Path("/dev/video0"), description="V4L2 device node, e.g. /dev/video0 or /dev/v4l/by-id/..."
    )
    input_format: Literal["h264", "mjpeg", "yuyv422"] = Field(
        "mjpeg", description="Format asked of the camera; h264 is recorded without re-encoding."
    )
    width: int = Field(1280, ge=160, le=3840, description="Capture width asked of the camera.")
    height: int = Field(720, ge=120, le=2160, description="Capture height asked of the camera.")
    fps: float = Field(15.0, ge=1, le=60, description="Frame rate asked of the camera.")
    analysis_fps: float = Field(5.0, gt=0, le=30, description="Frames per second analysed.")
    analysis_width: int = Field(640, ge=160, le=1920, description="Width of analysis frames.")
    record_bitrate: int = Field(
        1_000_000, ge=64_000, le=8_000_000,
        description="Bit rate when re-encoding MJPEG/raw (bit/s); unused for h264.",
    )
    keyframe_interval_s: float = Field(
        1.0, ge=0.2, le=5.0, description="Keyframe spacing when re-encoding MJPEG/raw."
    )
    frame_timeout_s: float = Field(
        2.0, ge=0.2, le=30, description="No frame for this long counts as the camera lost."
    )


CameraConfig = Annotated[
    FileCameraConfig | Picamera2CameraConfig | V4l2CameraConfig | DepthaiCameraConfig,
    Field(discriminator="type"),
]
