"""The file camera's analysis image: scaled on one thread, the same pixels as swscale's default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from hal.camera.file.camera import FileCamera


def test_one_thread_scaling_gives_the_default_pixels(tmp_path: Path) -> None:
    cam = FileCamera(tmp_path / "never-opened.mp4")  # nothing opens until start()
    rng = np.random.default_rng(3)
    default = VideoReformatter()
    for _ in range(4):
        rgb = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
        frame = VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        got = cam._analysis_image(frame, 640, 360)
        want = default.reformat(frame, format="rgb24", width=640, height=360).to_ndarray()
        assert got.shape == (360, 640, 3)
        np.testing.assert_array_equal(got, want)
    assert cam._scale_threads  # this PyAV takes threads=
