"""Picamera2Camera against the picamera2 STAND-IN (tests/standins/picamera2), not a real Pi.

The stand-in replays a real video and encodes it with libx264 through PyAV, so
the packets are real H.264; what is checked is the back-end's use of the API,
its timing on the unit clock, and that its packets make a playable clip.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hal.camera.base import CameraError
from hal.camera.picamera2.camera import Picamera2Camera, choose_encoder, yuv420_to_rgb
from tests.helpers.media import bars_video
from tests.helpers.unit.camera_checks import (
    FakeClock,
    assert_clip_plays,
    assert_in_time_order,
    assert_logged_once,
    is_idle,
    packets_of,
    take,
    through_unplug,
)
from tests.standins import STANDINS


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bars_video(tmp_path_factory.mktemp("pi") / "bars.mp4", 1.0, fps=10)


@pytest.fixture
def rig(video: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(STANDINS))
    import picamera2.standin

    picamera2.standin.RIG.reset()
    picamera2.standin.RIG.load(video)
    yield picamera2.standin.RIG
    for name in [m for m in sys.modules if m == "picamera2" or m.startswith("picamera2.")]:
        del sys.modules[name]


# The unplug tests need the short frame timeout to notice a hung camera quickly; tests of an
# unbroken stream pass STEADY, so a busy machine's pause is not taken for a lost camera.
STEADY = {"frame_timeout_s": 30.0}


def camera(clock: FakeClock, **kw: Any) -> Picamera2Camera:
    args: dict[str, Any] = dict(width=320, height=240, fps=10.0, lores_width=160,
                                lores_height=120, analysis_fps=5.0, clock=clock,
                                frame_timeout_s=0.3, reconnect_initial_s=0.05,
                                reconnect_max_s=0.1, idle_period_s=0.05)
    return Picamera2Camera(**(args | kw))


@pytest.mark.parametrize(
    ("choice", "hw", "chosen"),
    [("auto", True, "hardware"), ("auto", False, "libav"), ("libav", True, "libav"),
     ("hardware", True, "hardware")],
)
def test_choose_encoder_table(choice: Any, hw: bool, chosen: str) -> None:
    assert choose_encoder(choice, hw) == chosen


def test_hardware_encoder_on_a_pi5_is_refused_with_a_reason() -> None:
    with pytest.raises(CameraError, match=r"no H\.264 encoder block"):
        choose_encoder("hardware", False)


def test_yuv420_with_padded_stride_converts_to_the_right_colours() -> None:
    w, h, stride = 6, 4, 16
    y = np.full((h, stride), 0, np.uint8)
    y[:, :w] = 81  # BT.601 limited range red: Y 81, U 90, V 240
    u = np.full((h // 2, stride // 2), 7, np.uint8)  # padding holds junk
    u[:, : w // 2] = 90
    v = np.full((h // 2, stride // 2), 7, np.uint8)
    v[:, : w // 2] = 240
    array = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, stride)
    rgb = yuv420_to_rgb(array, w, h)
    assert rgb.shape == (h, w, 3)
    assert rgb[0, 0].tolist() == pytest.approx([255, 0, 0], abs=3)
    assert rgb[-1, -1].tolist() == pytest.approx([255, 0, 0], abs=3)


@pytest.mark.parametrize(("platform", "encoder"), [("VC4", "H264Encoder"),
                                                    ("PISP", "LibavH264Encoder")])
def test_standin_frames_and_packets_in_time_order_on_unit_clock(
    rig: Any, platform: str, encoder: str
) -> None:
    rig.platform = platform
    clock = FakeClock()
    caps = take(camera(clock, **STEADY), 25)
    names = [n for n in rig.names() if n != "global_camera_info"]
    assert names[:5] == ["Picamera2", "create_video_configuration", "configure",
                         encoder, "start_encoder"]
    assert names[5:7] == ["start", "capture_request"]
    assert names[names.index("stop_encoder"):][:3] == ["stop_encoder", "stop", "close"]
    enc_kw = next(kw for n, kw in rig.calls if n == encoder)
    assert enc_kw == {"bitrate": 1_500_000, "repeat": True, "iperiod": 10, "framerate": 10.0}
    config = next(kw for n, kw in rig.calls if n == "create_video_configuration")
    assert config["lores"] == {"size": (160, 120), "format": "YUV420"}
    assert config["controls"] == {"FrameRate": 10.0}

    assert_in_time_order(caps)
    assert 5000 < caps[0].t < 5005  # unit clock, not sensor time
    frames = [c.frame for c in caps if c.frame is not None]
    assert all(f.image.shape == (120, 160, 3) for f in frames)
    # Analysis at 5 fps out of 10: every other frame, 0.2 s apart on the sensor's clock.
    assert np.diff([f.t for f in frames]) == pytest.approx(0.2, abs=1e-6)
    packets = packets_of(caps)
    assert packets[0].keyframe
    assert np.diff([p.pts for p in packets]) == pytest.approx(0.1, abs=1e-6)
    assert [p.pts for p in packets if p.keyframe][:2] == pytest.approx(
        [packets[0].pts, packets[0].pts + 1.0])
    assert all(p.pts <= c.t + 1e-9 for c in caps for p in c.packets)


def test_standin_packets_mux_into_a_playable_clip(rig: Any, tmp_path: Path) -> None:
    cam = camera(FakeClock(), **STEADY)
    caps = take(cam, 30)
    info = cam.video_info
    assert info.extradata and info.extradata.startswith(b"\x00\x00\x00\x01")
    assert (info.width, info.height, info.fps) == (320, 240, 10.0)
    assert_clip_plays(info, packets_of(caps), tmp_path, "pi-clip", (320, 240))


def test_standin_unplug_reconnects_logging_loss_and_recovery_once(
    rig: Any, caplog: pytest.LogCaptureFixture
) -> None:
    rig.unplug_after_frames = 12
    cam = camera(FakeClock())
    cam.start()
    seen, reopened_at = through_unplug(cam, caplog, lambda: not rig.attached, rig.replug)
    assert_in_time_order(seen)
    assert_logged_once(caplog)
    assert rig.names().count("Picamera2") == 2  # first open and the reopen
    assert rig.names().count("global_camera_info") >= 3  # failed retries in between
    assert "cancel_all_and_flush" in rig.names()  # after the frame timeout
    assert any(is_idle(c) for c in seen)  # the loop kept ticking while the camera was away
    after = packets_of(seen[reopened_at:])
    assert after and after[0].keyframe  # the reopened stream starts at a keyframe


def test_standin_error_mid_stream_also_reconnects(rig: Any) -> None:
    rig.unplug_after_frames, rig.unplug_mode = 5, "error"
    cam = camera(FakeClock())
    cam.start()
    frames_after = 0
    for cap in cam.captures():
        if is_idle(cap) and not rig.attached:
            rig.replug()
        elif rig.frame_no > 8 and cap.frame is not None:
            frames_after += 1
            if frames_after >= 2:
                cam.stop()
    assert rig.names().count("close") >= 2


def test_standin_missing_camera_at_start_is_a_clear_error(rig: Any) -> None:
    rig.attached = False
    with pytest.raises(CameraError, match=r"Pi camera 0: not found .*rpicam-hello --list-cameras"):
        camera(FakeClock()).start()
    with pytest.raises(CameraError, match="Pi camera 0: not found"):
        camera(FakeClock(), camera_index=0).start()


def test_standin_camera_index_beyond_attached_is_a_clear_error(rig: Any) -> None:
    with pytest.raises(CameraError, match=r"Pi camera 2: not found \(1 camera\(s\) attached\)"):
        camera(FakeClock(), camera_index=2).start()


def test_without_picamera2_installed_start_says_how_to_install() -> None:
    assert "picamera2" not in sys.modules
    with pytest.raises(CameraError, match="apt install python3-picamera2"):
        camera(FakeClock()).start()


def test_standin_second_captures_iteration_and_captures_before_start_are_refused(
    rig: Any,
) -> None:
    cam = camera(FakeClock())
    with pytest.raises(CameraError, match="call start"):
        next(iter(cam.captures()))
    cam.start()
    first = cam.captures()
    next(first)
    with pytest.raises(CameraError, match="already being iterated"):
        next(iter(cam.captures()))
    cam.stop()
    assert list(first) == []
    assert rig.names().count("Picamera2") == rig.names().count("close") == 1
