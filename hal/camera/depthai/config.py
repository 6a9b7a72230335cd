"""``[camera]`` with ``type = "depthai"``: an OAK camera that encodes and detects on board."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from hal.config_base import Strict

DeviceId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
# What depthai.NNArchive opens; a bare .blob lacks the parser settings (family,
# classes, anchors, input size) that DetectionNetwork takes from the archive.
ARCHIVE_SUFFIXES = (".tar.xz", ".tar.gz", ".tar")


class DepthaiCameraConfig(Strict):
    type: Literal["depthai"] = Field("depthai", description="An OAK camera through depthai v3.")
    device_id: DeviceId | None = Field(
        None,
        description="Device id (MXID) or name (USB path or IP) of the OAK; unset: the first found.",
    )
    record_width: int = Field(
        1280, ge=320, le=3840, multiple_of=2, description="Recorded video width (even)."
    )
    record_height: int = Field(
        720, ge=240, le=2160, multiple_of=2, description="Recorded video height (even)."
    )
    fps: float = Field(15.0, ge=1.0, le=60.0, description="Sensor and recorded frame rate.")
    record_bitrate: int = Field(
        512_000, ge=64_000, le=20_000_000, description="Recorded video bit rate (bit/s, CBR)."
    )
    keyframe_interval_s: float = Field(
        1.0, ge=0.2, le=5.0, description="Keyframe spacing; bounds the loss at a power cut."
    )
    preview_width: int = Field(
        640, ge=160, le=1920, multiple_of=2,
        description="Analysis frame width; keep the sensor's aspect (16:9 on most OAKs).",
    )
    preview_height: int = Field(
        360, ge=90, le=1080, multiple_of=2, description="Analysis frame height."
    )
    analysis_fps: float = Field(5.0, gt=0, le=30, description="Analysis frames per second.")
    model_path: Path | None = Field(
        None,
        description="Person detector run on the OAK: an NN archive (.tar.xz) installed on the "
        "unit; unset: no on-device detection (the host analyses frames).",
    )
    person_label: int = Field(
        0, ge=0, le=999, description="Class index of 'person' in the model (COCO: 0, VOC: 15)."
    )
    confidence_threshold: float = Field(
        0.5, ge=0.05, le=0.99, description="Detections below this score are dropped on the device."
    )

    @field_validator("model_path")
    @classmethod
    def _archive(cls, v: Path | None) -> Path | None:
        if v is not None and not v.name.endswith(ARCHIVE_SUFFIXES):
            raise ValueError(
                f"must be an NN archive ({', '.join(ARCHIVE_SUFFIXES)}); wrap a .blob with "
                "luxonis-ml's ArchiveGenerator so the archive carries its parser settings"
            )
        return v

    @model_validator(mode="after")
    def _rates(self) -> DepthaiCameraConfig:
        if self.analysis_fps > self.fps:
            raise ValueError(
                f"analysis_fps ({self.analysis_fps:g}) must not exceed fps ({self.fps:g})"
            )
        if self.preview_width > self.record_width or self.preview_height > self.record_height:
            raise ValueError("preview_width x preview_height must fit within the recorded size")
        return self

    @property
    def keyframe_frequency(self) -> int:
        """Frames between keyframes, as depthai's VideoEncoder takes it."""
        return max(1, round(self.fps * self.keyframe_interval_s))
