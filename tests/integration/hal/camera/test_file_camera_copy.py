"""The file camera records a camera-like file's own H.264 packets (replay), real PyAV files."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from hal.camera.file.camera import FileCamera
from hal.camera.file.h264_copy import camera_like

FPS = 10


def write_video(path: Path, *, x264_params: str, preset: str = "ultrafast",
                size: tuple[int, int] = (320, 180), seconds: float = 3.0) -> Path:
    """A moving gradient, H.264 in MP4, encoded with the given x264 parameters."""
    w, h = size
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.options = {"preset": preset, "x264-params": x264_params}
        ramp = np.add.outer(np.arange(h), np.arange(w)).astype(np.uint8)
        for i in range(round(seconds * FPS)):
            image = np.stack([np.roll(ramp, 7 * i, axis=1), ramp, np.flipud(ramp)], axis=2)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


CAMERA = "keyint=10:min-keyint=10:scenecut=0:bframes=0"


@pytest.mark.parametrize(("params", "preset", "record", "expected"), [
    (CAMERA, "ultrafast", (1280, 720), None),
    ("keyint=10:min-keyint=10:scenecut=0:bframes=2", "veryfast", (1280, 720),
     "frames are reordered (B-frames)"),
    ("keyint=30:min-keyint=30:scenecut=0:bframes=0", "ultrafast", (1280, 720),
     "keyframes further apart than 1 s"),
    (CAMERA, "ultrafast", (160, 90), "320x180 is larger than the recording size"),
])
def test_camera_like_names_what_stops_copying(tmp_path: Path, params: str, preset: str,
                                              record: tuple[int, int],
                                              expected: str | None) -> None:
    video = write_video(tmp_path / "v.mp4", x264_params=params, preset=preset)
    assert camera_like(video, record, 1.0) == expected


def test_camera_like_refuses_what_is_not_a_video(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    assert (camera_like(junk, (1280, 720), 1.0) or "").startswith("cannot scan it")


def source_packets(path: Path) -> list[tuple[float, bytes, bool]]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.time_base is not None
        return [(float((p.pts or 0) * s.time_base), bytes(p), p.is_keyframe)
                for p in c.demux(s) if p.size]


def run(camera: FileCamera) -> tuple[list[tuple[float, bytes, bool]], list[np.ndarray],
                                     list[float]]:
    camera.start()
    try:
        caps = list(camera.captures())
    finally:
        camera.stop()
    packets = [(p.pts, p.data, p.keyframe) for c in caps for p in c.packets]
    frames = [c.frame.image for c in caps if c.frame is not None]
    return packets, frames, [c.t for c in caps]


def test_a_camera_like_file_is_recorded_packet_for_packet(tmp_path: Path) -> None:
    video = write_video(tmp_path / "cam.mp4", x264_params=CAMERA)
    copied = FileCamera(video, analysis_width=160, copy_h264=True)
    packets, frames, times = run(copied)
    source = source_packets(video)
    assert packets == source  # the same bytes, keyframes and times, nothing re-encoded
    with av.open(str(video)) as c:
        assert copied.video_info.extradata == c.streams.video[0].codec_context.extradata
    assert (copied.video_info.width, copied.video_info.height) == (320, 180)
    # Each capture carries the packet of its own frame.
    assert times == [t for t, _, _ in source]

    encoded, frames_enc, times_enc = run(FileCamera(video, analysis_width=160))
    assert [d for _, d, _ in encoded] != [d for _, d, _ in source]  # libx264 ran there
    assert times_enc == times
    assert len(frames) == len(frames_enc) == 15  # 5 fps of a 3 s file
    for a, b in zip(frames, frames_enc, strict=True):
        assert np.array_equal(a, b)  # analysis sees the same pixels either way


def test_a_file_with_b_frames_is_re_encoded_even_when_copying_is_asked(tmp_path: Path) -> None:
    video = write_video(tmp_path / "b.mp4", preset="veryfast",
                        x264_params="keyint=10:min-keyint=10:scenecut=0:bframes=2")
    camera = FileCamera(video, analysis_width=160, copy_h264=True)
    packets, _, _ = run(camera)
    assert camera.video_info.extradata is not None
    assert camera.video_info.extradata.startswith(b"\x00\x00\x00\x01")  # libx264's Annex-B
    keys = [t for t, _, key in packets if key]
    assert keys == pytest.approx([0.0, 1.0, 2.0])
    assert [d for _, d, _ in packets] != [d for _, d, _ in source_packets(video)]


def test_copied_packets_sit_on_their_frames_on_the_unit_clock(tmp_path: Path) -> None:
    video = write_video(tmp_path / "cam.mp4", x264_params=CAMERA, seconds=1.0)
    ticks = iter(range(100, 10_000, 10))  # each look at the clock is 10 s later: no waiting
    camera = FileCamera(video, analysis_width=160, copy_h264=True, realtime=True,
                        clock=lambda: float(next(ticks)))
    camera.start()
    try:
        caps = [c for c in camera.captures() if c.packets]
    finally:
        camera.stop()
    assert len(caps) == 10
    assert caps[0].t == 100.0
    for cap in caps:
        assert [p.pts for p in cap.packets] == [cap.t]
