"""Clips end to end: file camera + WAV microphone + AAC -> Recorder -> fragmented MP4.

Checked with ffprobe and PyAV, including the power cut: a clip cut in the
middle of a fragment still plays up to the cut, and salvage() makes it a
normal file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import av.error
import pytest

from audio.encoder import AacEncoder
from audio.synth import synth_counter_audio
from firmware.recorder import ClipWriter, ClosedClip, Recorder, RecorderError, salvage
from firmware.recorder.fmp4 import fragment_sample_counts, scan_file
from hal.camera.file.camera import FileCamera
from hal.mic.wav import WavMicrophone
from tests.helpers.media import bars_video

FPS = 10
SECONDS = 8.0
WALL_2026_11_22 = 1795348800.0  # 2026-11-22T12:00:00Z


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("src")
    video = bars_video(d / "bars.mp4", SECONDS)
    wav = synth_counter_audio(d / "talk.wav", SECONDS, [(1.0, 3.0), (4.0, 7.0)])
    return video, wav


Script = dict[float, Callable[[Recorder], object]]


def replay(source: tuple[Path, Path], clips: Path, script: Script) -> Recorder:
    """Run the source through the recorder; ``script[t](rec)`` runs after the capture at t."""
    cam = FileCamera(source[0])
    cam.start()
    mic = WavMicrophone(source[1])
    mic.start()
    enc = AacEncoder(mic.sample_rate)
    rec = Recorder(clips, 5.0, cam.video_info, enc.info, wall_clock=lambda: WALL_2026_11_22)
    for capture in cam.captures():
        rec.feed(list(capture.packets) + enc.encode(mic.read(capture.t)))
        action = script.get(round(capture.t, 3))
        if action is not None:
            action(rec)
    rec.feed(enc.flush())
    cam.stop()
    mic.stop()
    return rec


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stderr == "", out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def closed_by_id(rec: Recorder) -> dict[str, ClosedClip]:
    return dict(rec.closed())


def test_clip_has_h264_and_aac_and_the_requested_length(
    source: tuple[Path, Path], tmp_path: Path
) -> None:
    pre, post = 1.3, 1.0
    event_start, event_end = 3.0, 5.5
    rec = replay(
        source,
        tmp_path,
        {
            event_start: lambda r: r.start_clip("tx-1", event_start - pre),
            event_end: lambda r: r.stop_clip("tx-1", event_end + post),
        },
    )
    clip = closed_by_id(rec)["tx-1"]
    assert clip.path == tmp_path / "2026/11/22/tx-1.mp4"
    assert not list(tmp_path.rglob("*.partial"))

    probe = ffprobe(clip.path)
    kinds = {s["codec_type"]: s for s in probe["streams"]}
    assert kinds["video"]["codec_name"] == "h264"
    assert (kinds["video"]["width"], kinds["video"]["height"]) == (320, 240)
    assert kinds["audio"]["codec_name"] == "aac"
    assert (kinds["audio"]["sample_rate"], kinds["audio"]["channels"]) == ("16000", 1)
    span = pre + (event_end - event_start) + post
    assert abs(float(probe["format"]["duration"]) - span) <= 1.0
    assert abs(float(kinds["video"]["duration"]) - span) <= 0.5
    assert clip.duration == pytest.approx(float(kinds["video"]["duration"]), abs=0.01)

    data = clip.path.read_bytes()
    assert clip.sha256 == hashlib.sha256(data).hexdigest()
    assert clip.size == len(data)
    assert clip.start_pts == pytest.approx(2.0)  # keyframe nearest 1.7


def test_overlapping_clips_each_get_their_own_span(
    source: tuple[Path, Path], tmp_path: Path
) -> None:
    rec = replay(
        source,
        tmp_path,
        {
            2.0: lambda r: r.start_clip("a", 1.2),
            3.0: lambda r: r.start_clip("b", 2.6),
            3.5: lambda r: r.stop_clip("a", 4.0),
            6.0: lambda r: r.stop_clip("b", 6.4),
        },
    )
    clips = closed_by_id(rec)
    assert set(clips) == {"a", "b"}
    assert (clips["a"].start_pts, clips["a"].end_pts) == pytest.approx((1.0, 4.0))
    assert (clips["b"].start_pts, clips["b"].end_pts) == pytest.approx((3.0, 6.4))
    for clip in clips.values():
        probe = ffprobe(clip.path)
        assert float(probe["format"]["duration"]) == pytest.approx(clip.duration, abs=0.1)


def test_a_start_in_the_future_waits_for_the_nearest_keyframe(
    source: tuple[Path, Path], tmp_path: Path
) -> None:
    opened: list[str] = []
    rec = replay(
        source,
        tmp_path,
        {
            2.0: lambda r: r.start_clip("later", 3.3),
            2.5: lambda r: opened.extend(r.open_clips),
            4.5: lambda r: r.stop_clip("later", 5.0),
        },
    )
    assert opened == ["later"]
    clip = closed_by_id(rec)["later"]
    assert clip.start_pts == pytest.approx(3.0)  # 3.0 is nearer to 3.3 than 4.0 is
    assert clip.duration == pytest.approx(2.0)


def test_close_all_finishes_every_open_clip_playable(
    source: tuple[Path, Path], tmp_path: Path
) -> None:
    rec = replay(
        source,
        tmp_path,
        {
            2.0: lambda r: r.start_clip("x", 1.0),
            3.0: lambda r: r.start_clip("y", 3.0),
            4.5: lambda r: r.close_all(4.5),
        },
    )
    clips = closed_by_id(rec)
    assert set(clips) == {"x", "y"}
    assert rec.open_clips == []
    for clip in clips.values():
        assert clip.end_pts == pytest.approx(4.6)  # the frame at 4.5 was already in
        assert ffprobe(clip.path)["streams"]
    assert not list(tmp_path.rglob("*.partial"))


def test_bad_requests_are_refused_clearly(source: tuple[Path, Path], tmp_path: Path) -> None:
    errors: list[str] = []

    def attempt(action: Callable[[], object]) -> None:
        try:
            action()
        except RecorderError as exc:
            errors.append(str(exc))

    def misuse(r: Recorder) -> None:
        r.start_clip("dup", 1.0)
        attempt(lambda: r.start_clip("dup", 1.0))
        attempt(lambda: r.start_clip("../escape", 1.0))
        attempt(lambda: r.stop_clip("unknown", 2.0))
        attempt(lambda: r.start_clip("taken", 1.0))

    (tmp_path / "2026/11/22").mkdir(parents=True)
    (tmp_path / "2026/11/22/taken.mp4").write_bytes(b"evidence")
    replay(source, tmp_path, {1.0: misuse})
    assert len(errors) == 4
    assert "already open" in errors[0]
    assert "clip id" in errors[1]
    assert "not open" in errors[2]
    assert "refusing to overwrite" in errors[3]
    assert (tmp_path / "2026/11/22/taken.mp4").read_bytes() == b"evidence"


def test_a_failing_clip_is_reported_and_does_not_stop_the_others(
    source: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = ClipWriter.write

    def write(self: ClipWriter, packets: Any) -> None:
        if self.final_path.name == "broken.mp4" and (self.start_pts or 0) >= 1.0:
            raise RecorderError(f"{self.partial_path}: write failed (No space left on device)")
        real_write(self, packets)

    monkeypatch.setattr(ClipWriter, "write", write)
    failed: list[tuple[str, str]] = []
    rec = replay(
        source,
        tmp_path,
        {
            1.0: lambda r: (r.start_clip("broken", 1.0), r.start_clip("fine", 1.0)),
            2.0: lambda r: failed.extend(r.failed()),
            2.5: lambda r: r.stop_clip("fine", 3.0),
        },
    )
    assert [cid for cid, _ in failed] == ["broken"]
    assert "No space left" in failed[0][1]
    assert set(closed_by_id(rec)) == {"fine"}
    assert (tmp_path / "2026/11/22/broken.mp4.partial").exists()  # kept for salvage


# --- power cut -------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_clip(source: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> ClosedClip:
    clips = tmp_path_factory.mktemp("clips")
    rec = replay(source, clips, {0.0: lambda r: r.start_clip("long", 0.0)})
    rec.close_all(SECONDS)
    return closed_by_id(rec)["long"]


def count_decoded_frames(path: Path) -> int:
    frames = 0
    try:
        with av.open(str(path)) as container:
            for _ in container.decode(video=0):
                frames += 1
    except av.error.FFmpegError:
        pass  # the interrupted fragment may end in an error: count what came before
    return frames


def test_power_cut_keeps_every_complete_fragment(long_clip: ClosedClip, tmp_path: Path) -> None:
    counts = [c[1] for c in fragment_sample_counts(long_clip.path)]  # track 1 = video
    assert len(counts) >= 5
    assert sum(counts) == round(SECONDS * FPS)  # the parser sees every frame written

    layout = scan_file(long_clip.path)
    moof, end = layout.fragments[4]
    cut = tmp_path / "long.mp4.partial"
    cut.write_bytes(long_clip.path.read_bytes()[: (moof + end) // 2])

    complete = sum(counts[:4])
    decoded = count_decoded_frames(cut)
    assert complete <= decoded <= complete + counts[4]

    final = tmp_path / "long.mp4"
    result = salvage(cut, final)
    assert result.status == "salvaged", result.error
    assert result.path == final
    assert not cut.exists()
    assert result.sha256 == hashlib.sha256(final.read_bytes()).hexdigest()
    assert result.lost_bytes > 0
    probe = ffprobe(final)
    assert {s["codec_name"] for s in probe["streams"]} == {"h264", "aac"}
    assert float(probe["format"]["duration"]) >= complete / FPS - 0.05
    assert result.duration == pytest.approx(complete / FPS, abs=0.01)
    assert count_decoded_frames(final) == complete


def test_a_recording_in_progress_is_salvageable_at_any_moment(
    source: tuple[Path, Path], tmp_path: Path
) -> None:
    """What is on disk mid-recording (fsynced fragments) plays after a cut there."""
    snapshots: list[tuple[float, Path]] = []

    def snapshot(t: float) -> Callable[[Recorder], object]:
        def take(_: Recorder) -> None:
            copy = tmp_path / f"at{t}.mp4.partial"
            shutil.copy(tmp_path / "clips/2026/11/22/live.mp4.partial", copy)
            snapshots.append((t, copy))

        return take

    script: Script = {0.0: lambda r: r.start_clip("live", 0.0)}
    script |= {t: snapshot(t) for t in (2.5, 4.5, 6.5)}
    replay(source, tmp_path / "clips", script)
    for t, copy in snapshots:
        result = salvage(copy, copy.with_suffix(""))
        assert result.status == "salvaged", result.error
        # Lost at most the fragment being filled, plus the ~0.3 s the muxer holds
        # a finished fragment while it waits for the matching (lagging) audio.
        assert result.duration >= t - 1.5
        assert result.lost_bytes == 0  # fragments reach the file whole


def test_salvage_without_a_complete_fragment_keeps_the_bytes_as_cut(
    long_clip: ClosedClip, tmp_path: Path
) -> None:
    moof, end = scan_file(long_clip.path).fragments[0]
    partial = tmp_path / "early.mp4.partial"
    data = long_clip.path.read_bytes()[: (moof + end) // 2]
    partial.write_bytes(data)
    final = tmp_path / "early.mp4"
    result = salvage(partial, final)
    assert result.status == "cut"
    assert result.path == tmp_path / "early.mp4.cut"
    assert result.path.read_bytes() == data  # evidence kept byte for byte
    assert result.error == "no complete fragment"
    assert not final.exists()
    assert not partial.exists()

    partial.write_bytes(data[:100])  # the same clip cut again: the first .cut survives
    again = salvage(partial, final)
    assert again.status == "cut"
    assert again.path == tmp_path / "early.mp4.cut.1"
    assert again.error == "header (ftyp+moov) incomplete"
    assert (tmp_path / "early.mp4.cut").read_bytes() == data


def test_salvage_after_rename_but_before_commit_reports_the_final_file(
    long_clip: ClosedClip, tmp_path: Path
) -> None:
    final = tmp_path / "done.mp4"
    shutil.copy(long_clip.path, final)
    result = salvage(tmp_path / "done.mp4.partial", final)
    assert result.status == "salvaged"
    assert result.sha256 == long_clip.sha256
    assert result.duration == pytest.approx(long_clip.duration, abs=0.01)


def test_salvage_of_nothing_says_missing(tmp_path: Path) -> None:
    result = salvage(tmp_path / "gone.mp4.partial", tmp_path / "gone.mp4")
    assert result.status == "missing"
    assert result.path is None


def test_salvage_never_overwrites_an_existing_final_file(
    long_clip: ClosedClip, tmp_path: Path
) -> None:
    final = tmp_path / "both.mp4"
    final.write_bytes(b"someone else's file")
    partial = tmp_path / "both.mp4.partial"
    shutil.copy(long_clip.path, partial)
    result = salvage(partial, final)
    assert result.status == "cut"
    assert final.read_bytes() == b"someone else's file"
    assert result.path is not None
    assert result.path.read_bytes() == long_clip.path.read_bytes()
