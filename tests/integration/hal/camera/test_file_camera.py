"""FileCamera on real video files made here with PyAV."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.codeccontext import VideoCodecContext

from audio.synth import synth_counter_audio
from hal.camera.base import CameraError, Capture
from hal.camera.file.camera import FileCamera, analysis_size, fit_within
from tests.helpers.media import bars_video
from tests.helpers.unit.camera_checks import packets_of


@pytest.fixture(scope="module")
def bars_4s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bars_video(tmp_path_factory.mktemp("cam") / "bars.mp4", 4.0)


def run(cam: FileCamera) -> list[Capture]:
    cam.start()
    try:
        return list(cam.captures())
    finally:
        cam.stop()


@pytest.mark.parametrize(
    ("src", "box", "fit"),
    [
        ((1920, 1080), (1280, 720), (1280, 720)),
        ((1280, 720), (1280, 720), (1280, 720)),
        ((320, 240), (1280, 720), (320, 240)),  # never upscaled
        ((768, 576), (1280, 720), (768, 576)),
        ((1440, 1080), (1280, 720), (960, 720)),  # 4:3 into 16:9
        ((721, 405), (640, 360), (640, 358)),  # even sizes for yuv420p
    ],
)
def test_fit_within(src: tuple[int, int], box: tuple[int, int], fit: tuple[int, int]) -> None:
    assert fit_within(*src, *box) == fit


@pytest.mark.parametrize(
    ("src", "width", "size"),
    [((1280, 720), 640, (640, 360)), ((320, 240), 640, (320, 240)), ((768, 576), 320, (320, 240))],
)
def test_analysis_size(src: tuple[int, int], width: int, size: tuple[int, int]) -> None:
    assert analysis_size(*src, width) == size


@pytest.mark.parametrize(("fps", "expected"), [(5.0, 20), (2.0, 8), (10.0, 40)])
def test_analysis_frames_at_analysis_fps(bars_4s: Path, fps: float, expected: int) -> None:
    captures = run(FileCamera(bars_4s, analysis_fps=fps, analysis_width=160))
    frames = [c.frame for c in captures if c.frame is not None]
    assert abs(len(frames) - expected) <= 1
    assert frames[0].t == 0.0
    assert all(f.image.shape == (120, 160, 3) and f.image.dtype == np.uint8 for f in frames)
    gaps = np.diff([f.t for f in frames])
    assert gaps == pytest.approx(np.full(len(gaps), 1 / fps), abs=0.051)


def test_packets_decode_back_with_keyframes_every_interval(bars_4s: Path) -> None:
    cam = FileCamera(bars_4s, keyframe_interval_s=1.0)
    captures = run(cam)
    info = cam.video_info
    packets = packets_of(captures)
    assert (info.kind, info.codec, info.width, info.height, info.fps) == (
        "video",
        "h264",
        320,
        240,
        10.0,
    )
    assert info.extradata
    assert [p.pts for p in packets if p.keyframe] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    pts = [p.pts for p in packets]
    assert pts == sorted(pts)
    assert pts == pytest.approx([i / 10 for i in range(40)])
    assert all(p.duration == pytest.approx(0.1) for p in packets)

    dec = av.CodecContext.create("h264", "r")
    assert isinstance(dec, VideoCodecContext)
    dec.extradata = info.extradata
    frames = [f for p in packets for f in dec.decode(av.Packet(p.data))]
    frames += dec.decode(None)
    assert len(frames) == 40
    assert (frames[0].width, frames[0].height) == (320, 240)
    # The bars are still recognisable after the round trip.
    assert frames[0].to_ndarray(format="rgb24")[120, 5].tolist() == pytest.approx([0, 0, 0], abs=40)


def test_capture_times_are_media_seconds(bars_4s: Path) -> None:
    captures = run(FileCamera(bars_4s))
    assert [c.t for c in captures[:40]] == pytest.approx([i / 10 for i in range(40)])
    assert all(p.pts <= c.t + 1e-9 for c in captures for p in c.packets)


def test_record_stream_is_scaled_to_fit(tmp_path: Path) -> None:
    src = bars_video(tmp_path / "wide.mp4", 0.5, fps=10, width=1280, height=720)
    cam = FileCamera(src, record_width=640, record_height=480, analysis_width=320)
    captures = run(cam)
    assert (cam.video_info.width, cam.video_info.height) == (640, 360)
    first = next(c.frame for c in captures if c.frame is not None)
    assert first.image.shape == (180, 320, 3)


def test_720p_is_encoded_whole(tmp_path: Path) -> None:
    # Its speed is a bench figure (bench/bench_unit.py records 720p), not a timed test.
    src = bars_video(tmp_path / "hd.mp4", 2.0, fps=30, width=1280, height=720)
    cam = FileCamera(src)
    captures = run(cam)
    assert len(packets_of(captures)) == 60
    assert (cam.video_info.width, cam.video_info.height) == (1280, 720)


def test_realtime_paces_by_timestamps_on_the_clock(tmp_path: Path) -> None:
    src = bars_video(tmp_path / "short.mp4", 1.0)
    cam = FileCamera(src, realtime=True)
    cam.start()
    seen: list[tuple[float, float]] = []
    for capture in cam.captures():
        seen.append((capture.t, time.monotonic()))
    cam.stop()
    times = [t for t, _ in seen[:10]]
    assert times[0] > 0.0  # clock-based, not media time
    assert np.diff(times) == pytest.approx(np.full(9, 0.1), abs=1e-6)
    assert seen[9][1] - seen[0][1] >= 0.85  # paced, not as fast as possible
    assert all(abs(t - wall) < 0.1 for t, wall in seen[:10])


def test_stop_from_another_thread_ends_captures_promptly(bars_4s: Path) -> None:
    cam = FileCamera(bars_4s, realtime=True)  # 4 s if left alone
    cam.start()
    first = threading.Event()
    count = [0]

    def consume() -> None:
        for _ in cam.captures():
            count[0] += 1
            first.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert first.wait(timeout=5.0)
    stopped_at = time.monotonic()
    cam.stop()
    worker.join(timeout=2.0)
    assert not worker.is_alive()
    assert time.monotonic() - stopped_at < 0.5
    assert count[0] < 40
    cam.stop()  # twice is fine


def test_captures_before_start_is_an_error(bars_4s: Path) -> None:
    with pytest.raises(CameraError, match="start"):
        next(FileCamera(bars_4s).captures())
    with pytest.raises(CameraError, match="after start"):
        _ = FileCamera(bars_4s).video_info


def _expect_clear_error(cam: FileCamera, match: str) -> CameraError:
    with pytest.raises(CameraError, match=match) as info:
        cam.start()
        list(cam.captures())
    err = info.value
    assert str(cam.path) in str(err)
    # No PyAV traceback riding along: the cause is suppressed.
    assert err.__cause__ is None
    assert err.__suppress_context__ or err.__context__ is None
    return err


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    _expect_clear_error(FileCamera(tmp_path / "nope.mp4"), "no such file")


def test_text_file_named_mp4_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("meeting notes, definitely not a video\n" * 20)
    _expect_clear_error(FileCamera(fake), "not a readable video file")


def test_audio_only_file_is_a_clear_error(tmp_path: Path) -> None:
    wav = synth_counter_audio(tmp_path / "talk.wav", 1.0, [(0.2, 0.8)])
    _expect_clear_error(FileCamera(wav), "no video stream")


def test_truncated_video_is_a_clear_error(bars_4s: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    data = bars_4s.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the index (moov) is at the end: now gone
    _expect_clear_error(FileCamera(cut), "not a readable video file")


def test_truncated_streamable_video_fails_after_delivering_what_it_has(
    bars_4s: Path, tmp_path: Path
) -> None:
    streamable = tmp_path / "fast.mp4"
    with (
        av.open(str(bars_4s)) as src,
        av.open(str(streamable), "w", options={"movflags": "faststart"}) as dst,
    ):
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    data = streamable.read_bytes()
    cut = tmp_path / "fast_cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    cam = FileCamera(cut)
    cam.start()
    got: list[Capture] = []
    with pytest.raises(CameraError, match="truncated") as info:
        for capture in cam.captures():
            got.append(capture)
    assert 10 <= len(packets_of(got)) < 40  # the part before the cut was delivered
    assert info.value.__cause__ is None


def test_corrupt_video_data_is_a_clear_error(bars_4s: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    data = bytearray(bars_4s.read_bytes())
    data[: len(data) // 2] = bytes(len(data) // 2)  # header and half the frames zeroed
    bad.write_bytes(bytes(data))
    _expect_clear_error(FileCamera(bad), "not a readable video file|corrupt")
