"""``[camera]`` section: one model per back-end, chosen by ``type``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from firmware.config_base import Strict


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


CameraConfig = Annotated[FileCameraConfig, Field(discriminator="type")]
