"""Camera config: each back-end's keys are bounded, and a bad value names its key."""

from __future__ import annotations

from typing import Any

import pytest

from firmware.config.unit import ConfigError, parse_config
from hal.camera.config import Picamera2CameraConfig, V4l2CameraConfig

PI: dict[str, Any] = {"type": "picamera2"}
USB: dict[str, Any] = {"type": "v4l2"}


def test_defaults_per_back_end() -> None:
    pi = parse_config({"camera": PI}).camera
    assert isinstance(pi, Picamera2CameraConfig)
    assert (pi.width, pi.height, pi.lores_width, pi.encoder) == (1280, 720, 640, "auto")
    usb = parse_config({"camera": USB}).camera
    assert isinstance(usb, V4l2CameraConfig)
    assert (str(usb.device), usb.input_format) == ("/dev/video0", "mjpeg")


GOOD = [
    {**PI, "encoder": "libav", "fps": 30, "width": 1920, "height": 1080},
    {**PI, "camera_index": 1, "lores_width": 320, "lores_height": 240, "analysis_fps": 2},
    {**USB, "input_format": "h264", "device": "/dev/v4l/by-id/usb-cam-video-index0"},
    {**USB, "input_format": "yuyv422", "width": 640, "height": 480, "fps": 30},
]


@pytest.mark.parametrize("camera", GOOD)
def test_good_values_are_accepted(camera: dict[str, Any]) -> None:
    assert parse_config({"camera": camera}).camera.type == camera["type"]


BAD = {
    "pi encoder": ({**PI, "encoder": "gpu"}, "camera.picamera2.encoder: Input should be 'auto'"),
    "pi fps": ({**PI, "fps": 120}, "camera.picamera2.fps: Input should be less than or equal"),
    "pi odd width": ({**PI, "width": 1281}, "camera.picamera2.width: Input should be a multiple"),
    "pi index": ({**PI, "camera_index": -1}, "camera.picamera2.camera_index: Input should be"),
    "pi lores too big": ({**PI, "lores_width": 1280, "width": 640, "height": 480},
                         "camera.picamera2: lores_width/lores_height must not exceed"),
    "pi bitrate": ({**PI, "bitrate": 10}, "camera.picamera2.bitrate: Input should be greater"),
    "pi unknown key": ({**PI, "resolution": "720p"}, "camera.picamera2.resolution: unknown key"),
    "usb format": ({**USB, "input_format": "nv12"}, "camera.v4l2.input_format: Input should be"),
    "usb fps": ({**USB, "fps": 0}, "camera.v4l2.fps: Input should be greater than or equal"),
    "usb keyframes": ({**USB, "keyframe_interval_s": 10},
                      "camera.v4l2.keyframe_interval_s: Input should be less than"),
    "usb unknown key": ({**USB, "path": "/dev/video0"}, "camera.v4l2.path: unknown key"),
}


@pytest.mark.parametrize(("camera", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_value_names_the_key(camera: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"camera": camera})
    assert expected in str(info.value)


def test_every_camera_field_is_described() -> None:
    for model in (Picamera2CameraConfig, V4l2CameraConfig):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"
