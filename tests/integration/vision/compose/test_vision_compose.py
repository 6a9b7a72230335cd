"""Composed scenes as real H.264 MP4 files: probed with ffprobe, read back with PyAV."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vision.compose.render import Renderer
from vision.compose.scenes import Appearance, SceneError, SceneSpec, compose, read_frames

SPEC = SceneSpec(3.0, fps=10, size=(320, 180), appearances=(
    Appearance("astronaut", "seat", 0, 3, enter_s=0.0),
    Appearance("messi", "customer", 1, 2.5),
))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compose") / "scene.mp4"
    truth = compose(SPEC, path)
    assert truth.intervals == {"seat": [(0, 3)], "customer": [(1, 2.5)]}
    return path


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed (make apt)")
def test_ffprobe_sees_h264_with_a_keyframe_every_second(clip: Path) -> None:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-show_frames",
         "-show_entries", "stream=codec_name,width,height,pix_fmt:frame=key_frame,pts_time",
         "-of", "json", str(clip)],
        capture_output=True, text=True, check=True,
    )
    info = json.loads(out.stdout)
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 320, 180)
    assert stream["pix_fmt"] == "yuv420p"
    frames = info["frames"]
    assert len(frames) == 30
    keys = [round(float(f["pts_time"]), 2) for f in frames if f["key_frame"] == 1]
    assert keys == [0.0, 1.0, 2.0]


def test_frames_read_back_match_the_render(clip: Path) -> None:
    renderer = Renderer(SPEC)
    got = list(read_frames(clip, fps=5))
    assert [round(t, 2) for t, _ in got] == [round(0.2 * i, 2) for i in range(15)]
    for t, image in got[::4]:
        expected = renderer.frame(t).astype(np.int16)
        error = np.abs(image.astype(np.int16) - expected).mean()
        assert error < 8.0, f"frame at {t}: mean error {error:.1f}"


def test_read_frames_can_resize(clip: Path) -> None:
    t, image = next(iter(read_frames(clip, size=(160, 90))))
    assert t == 0.0 and image.shape == (90, 160, 3)


def test_no_partial_file_is_left_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "x.mp4"
    with pytest.raises(SceneError, match="does not exist"):
        compose(SPEC, target)
    assert not target.exists() and not target.with_name("x.mp4.partial").exists()


def test_reading_a_missing_file_is_a_scene_error(tmp_path: Path) -> None:
    with pytest.raises(SceneError, match="cannot read"):
        next(iter(read_frames(tmp_path / "nope.mp4")))
