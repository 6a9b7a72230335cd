"""V4l2Camera against a STAND-IN of FFmpeg's v4l2 demuxer (tests/standins/v4l2_av.py).

There is no USB camera here: ``CameraRig.open`` replaces ``av.open`` and serves
real H.264 / MJPEG / YUYV streams made with PyAV from a real video, decoded by
a real FFmpeg container. What is checked is the back-end's use of the demuxer
(format name, options, non-blocking reads), passthrough vs re-encoding, timing
on the unit clock, clips that play, and reconnecting. Two tests use the real
``av.open`` with the real v4l2 demuxer on nodes that are not cameras.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import hal.camera.v4l2.session as v4l2_session
from hal.camera.base import CameraError, Capture
from hal.camera.h264 import is_annexb, parameter_sets
from hal.camera.v4l2.camera import V4l2Camera
from tests.conftest import wait_for
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
from tests.standins.v4l2_av import CameraRig, Source, camera_sources

FPS = 10


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Source], list[np.ndarray]]:
    root = tmp_path_factory.mktemp("v4l2")
    video = bars_video(root / "bars.mp4", 2.0, fps=FPS)
    with av.open(str(video)) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    return camera_sources(video, root, fps=FPS, keyint=FPS), frames


@pytest.fixture
def rig(media: tuple[dict[str, Source], list[np.ndarray]], tmp_path: Path) -> CameraRig:
    return CameraRig(tmp_path / "usb-cam-video-index0", media[0], fps=FPS)


def camera(rig: CameraRig, fmt: str = "h264", **kw: Any) -> V4l2Camera:
    args: dict[str, Any] = dict(
        input_format=fmt, width=320, height=240, fps=float(FPS), analysis_fps=5.0,
        analysis_width=160, clock=FakeClock(), frame_timeout_s=0.3, open_timeout_s=2.0,
        reconnect_initial_s=0.05, reconnect_max_s=0.1, idle_period_s=0.05, opener=rig.open,
    )
    args = args | kw
    return V4l2Camera(args.pop("device", rig.node), **args)


@pytest.fixture
def no_encoder(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        made.append("X264Stream")
        raise AssertionError("H.264 from the camera must not be re-encoded")

    monkeypatch.setattr(v4l2_session, "X264Stream", refuse)
    return made


def test_standin_h264_passes_the_cameras_packets_through_untouched(
    rig: CameraRig, media: tuple[dict[str, Source], list[np.ndarray]], no_encoder: list[str]
) -> None:
    rig.eagain_every = 3  # the non-blocking device often has nothing queued yet
    cam = camera(rig)
    caps = take(cam, 25)

    call, = rig.calls
    assert call["format"] in ("video4linux2", "v4l2") and call["file"] == str(rig.node)
    assert call["options"] == {"input_format": "h264", "video_size": "320x240", "framerate": "10"}
    assert call["container_options"] == {"fflags": "+4"}  # AVFMT_FLAG_NONBLOCK
    assert rig.eagains > 0 and not no_encoder and rig.open_now == 0

    packets = packets_of(caps)
    source = [data for data, _ in rig.sources["h264"].packets]
    assert [p.data for p in packets] == (source * 2)[: len(packets)]  # byte for byte
    assert all(is_annexb(p.data) for p in packets)
    assert [i for i, p in enumerate(packets) if p.keyframe] == [0, 10, 20]
    info = cam.video_info
    assert info.extradata and info.extradata == parameter_sets(source[0])
    assert info.extradata.startswith(b"\0\0\0\1")
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 320, 240, 10.0)

    assert_in_time_order(caps)
    assert 5000 < caps[0].t < 5005  # unit clock, not device time
    assert np.diff([p.pts for p in packets]) == pytest.approx(0.1, abs=1e-6)
    frames = [(i, c.frame) for i, c in enumerate(caps) if c.frame is not None]
    assert [i for i, _ in frames] == list(range(0, 25, 2))  # 5 fps out of 10
    assert np.diff([f.t for _, f in frames]) == pytest.approx(0.2, abs=1e-6)
    source_frames = media[1]
    for i, frame in frames:
        assert frame.image.shape == (120, 160, 3)
        expected = source_frames[i % len(source_frames)][::2, ::2].astype(int)
        assert np.abs(frame.image.astype(int) - expected).mean() < 12  # decoded, same picture


def test_standin_mjpeg_is_reencoded_with_keyframes_at_the_interval(rig: CameraRig) -> None:
    cam = camera(rig, "mjpeg", keyframe_interval_s=0.5, width=640, height=480)
    caps = take(cam, 22)
    assert rig.calls[0]["options"] == {"input_format": "mjpeg", "video_size": "640x480",
                                       "framerate": "10"}
    info = cam.video_info
    # The camera only makes 320x240: what it sent is what is recorded, never upscaled.
    assert (info.codec, info.width, info.height) == ("h264", 320, 240)
    assert info.extradata and parameter_sets(info.extradata) == info.extradata
    packets = packets_of(caps)
    assert len(packets) == 22 and all(is_annexb(p.data) for p in packets)
    start = packets[0].pts
    assert [round(p.pts - start, 3) for p in packets if p.keyframe] == [0.0, 0.5, 1.0, 1.5, 2.0]
    frames = [c.frame for c in caps if c.frame is not None]
    assert len(frames) == 11 and all(f.image.shape == (120, 160, 3) for f in frames)
    assert np.diff([f.t for f in frames]) == pytest.approx(0.2, abs=1e-6)
    # One encoded frame per capture, stamped with it (to the encoder's 90 kHz tick).
    assert all(abs(c.t - p.pts) < 1e-4 for c in caps for p in c.packets)


def test_standin_yuyv422_raw_frames_are_encoded_too(rig: CameraRig) -> None:
    cam = camera(rig, "yuyv422")
    caps = take(cam, 6)
    assert rig.calls[0]["options"]["input_format"] == "yuyv422"
    packets = packets_of(caps)
    assert len(packets) == 6 and packets[0].keyframe
    red_bar = caps[0].frame
    assert red_bar is not None and red_bar.image.shape == (120, 160, 3)


@pytest.mark.parametrize("fmt", ["h264", "mjpeg"])
def test_standin_packets_make_a_playable_clip(rig: CameraRig, tmp_path: Path, fmt: str) -> None:
    cam = camera(rig, fmt)
    packets = packets_of(take(cam, 30))
    assert_clip_plays(cam.video_info, packets, tmp_path, "usb", (320, 240))


def test_missing_device_is_named_with_what_to_check(rig: CameraRig, tmp_path: Path) -> None:
    cam = camera(rig, device=tmp_path / "video7")
    with pytest.raises(CameraError) as info:
        cam.start()
    assert str(info.value) == (f"no {tmp_path / 'video7'}: is the USB camera plugged in? "
                               "`ls /dev/v4l/by-id`")
    assert rig.calls == []  # nothing was opened


def test_real_v4l2_demuxer_on_nodes_that_are_not_cameras(tmp_path: Path) -> None:
    plain = tmp_path / "video0"
    plain.write_bytes(b"")
    with pytest.raises(CameraError, match=r"is not a device node"):
        V4l2Camera(plain).start()
    # /dev/null is a character device; the real demuxer's VIDIOC_QUERYCAP fails on it.
    with pytest.raises(CameraError, match=r"/dev/null is not a V4L2 device .*v4l2-ctl"):
        V4l2Camera("/dev/null", frame_timeout_s=0.3).start()


def test_standin_format_the_camera_lacks_says_what_to_check(rig: CameraRig) -> None:
    rig.sources = {k: v for k, v in rig.sources.items() if k != "h264"}
    with pytest.raises(CameraError, match=r"cannot capture h264 320x240 at 10 fps .*"
                                          r"--list-formats-ext"):
        camera(rig).start()
    assert rig.open_now == 0


@pytest.mark.parametrize(("fmt", "mode"), [("h264", "error"), ("mjpeg", "eof"),
                                            ("h264", "quiet")])
def test_standin_unplug_mid_stream_reconnects_logging_loss_and_recovery_once(
    rig: CameraRig, caplog: pytest.LogCaptureFixture, fmt: str, mode: Any
) -> None:
    rig.unplug_after, rig.unplug_mode = 12, mode
    cam = camera(rig, fmt)
    cam.start()
    seen, reopened_at = through_unplug(cam, caplog, lambda: rig.stalled or not rig.attached,
                                       rig.replug)
    assert_in_time_order(seen)
    lost, _ = assert_logged_once(caplog)
    assert {"error": "No such device", "eof": "stream ended",
            "quiet": "no frame for 0.3 s"}[mode] in lost.getMessage()
    assert len(rig.calls) >= 2 and rig.open_now == 0  # reopened, and nothing left open
    assert sum(map(is_idle, seen)) >= 3  # the loop kept ticking
    before = packets_of(seen[:reopened_at])
    after = packets_of(seen[reopened_at:])
    assert len(before) == 12 and after and after[0].keyframe
    assert after[0].pts > before[-1].pts


def test_stop_from_another_thread_ends_captures_while_the_camera_is_silent(
    rig: CameraRig,
) -> None:
    cam = camera(rig, "mjpeg", frame_timeout_s=30.0)
    cam.start()
    got: list[Capture] = []
    worker = threading.Thread(target=lambda: got.extend(cam.captures()), daemon=True)
    rig.stalled = True  # the device stays, frames stop: only stop() can end this now
    worker.start()
    wait_for(lambda: rig.eagains >= 5, timeout_s=10, what="reads finding nothing queued")
    cam.stop()
    worker.join(timeout=5)
    assert not worker.is_alive() and rig.open_now == 0
    assert len(got) == 1  # the first frame, read at start()


def test_second_captures_iteration_and_captures_before_start_are_refused(rig: CameraRig) -> None:
    cam = camera(rig, "mjpeg")
    with pytest.raises(CameraError, match="call start"):
        next(iter(cam.captures()))
    with pytest.raises(CameraError, match="only known after start"):
        _ = cam.video_info
    cam.start()
    cam.start()  # idempotent: still one open
    assert len(rig.calls) == 1
    first: Iterator[Capture] = cam.captures()
    next(first)
    with pytest.raises(CameraError, match="already being iterated"):
        next(iter(cam.captures()))
    cam.stop()
    assert list(first) == [] and rig.open_now == 0
    cam.stop()
