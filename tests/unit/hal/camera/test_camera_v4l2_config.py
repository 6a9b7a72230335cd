"""``[camera] type = "v4l2"``: config keys reach the V4l2Camera constructor; nothing opens."""

from __future__ import annotations

from typing import Any

import pytest

from firmware.config.unit import ConfigError, parse_config
from firmware.wiring.camera import build_camera
from hal.camera.v4l2.camera import V4l2Camera, ffmpeg_rate


def clock() -> float:
    return 42.0


def test_every_key_reaches_the_camera_and_nothing_is_opened() -> None:
    cfg = parse_config({"camera": {
        "type": "v4l2", "device": "/dev/v4l/by-id/usb-cam-video-index0", "input_format": "h264",
        "width": 1920, "height": 1080, "fps": 30, "analysis_fps": 4, "analysis_width": 480,
        "record_bitrate": 2_000_000, "keyframe_interval_s": 2.0, "frame_timeout_s": 3.5,
    }})
    cam = build_camera(cfg, clock)
    assert isinstance(cam, V4l2Camera)
    got = {k: getattr(cam, k) for k in (
        "input_format", "width", "height", "fps", "analysis_fps", "analysis_width",
        "record_bitrate", "keyframe_interval_s", "frame_timeout_s")}
    assert got == {"input_format": "h264", "width": 1920, "height": 1080, "fps": 30.0,
                   "analysis_fps": 4.0, "analysis_width": 480, "record_bitrate": 2_000_000,
                   "keyframe_interval_s": 2.0, "frame_timeout_s": 3.5}
    assert str(cam.device) == "/dev/v4l/by-id/usb-cam-video-index0"
    assert cam._clock is clock
    assert cam.demuxer_options() == {"input_format": "h264", "video_size": "1920x1080",
                                     "framerate": "30"}


def test_defaults_map_to_the_camera_defaults() -> None:
    cam = build_camera(parse_config({"camera": {"type": "v4l2"}}), clock)
    assert isinstance(cam, V4l2Camera)
    assert (str(cam.device), cam.input_format, cam.frame_timeout_s) == ("/dev/video0", "mjpeg",
                                                                        2.0)
    assert cam.demuxer_options() == {"input_format": "mjpeg", "video_size": "1280x720",
                                     "framerate": "15"}


@pytest.mark.parametrize(("value", "expected"), [
    ({"frame_timeout_s": 0.1}, "camera.v4l2.frame_timeout_s: Input should be greater than"),
    ({"frame_timeout_s": 60}, "camera.v4l2.frame_timeout_s: Input should be less than"),
])
def test_frame_timeout_is_bounded_and_named(value: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"camera": {"type": "v4l2", **value}})
    assert expected in str(info.value)


@pytest.mark.parametrize(("fps", "rate"), [(15.0, "15"), (7.5, "15/2"), (29.97, "2997/100"),
                                           (30000 / 1001, "30000/1001")])
def test_frame_rate_is_written_as_ffmpeg_parses_it(fps: float, rate: str) -> None:
    assert ffmpeg_rate(fps) == rate


@pytest.mark.parametrize("bad", [{"fps": 0}, {"input_format": "nv12"}, {"width": 8},
                                 {"frame_timeout_s": -1}])
def test_constructor_refuses_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        V4l2Camera("/dev/video0", **bad)
