"""Composed test scenes: render a SceneSpec, encode it as H.264 MP4, return the truth.

Used by the presence evaluation, by the firmware's replay tests (the ``file``
camera plays the MP4) and by the demo. Ready-made scenes are in ``SCENES``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vision.compose.actors import ACTORS, Actor, ActorError, actor
from vision.compose.catalog import SCENES, scene
from vision.compose.render import Renderer, render, render_background
from vision.compose.spec import (
    Appearance,
    Background,
    GroundTruth,
    Interval,
    Lighting,
    Passer,
    Poster,
    SceneError,
    SceneSpec,
    ground_truth,
    merge,
)

__all__ = [
    "ACTORS",
    "SCENES",
    "Actor",
    "ActorError",
    "Appearance",
    "Background",
    "GroundTruth",
    "Interval",
    "Lighting",
    "Passer",
    "Poster",
    "Renderer",
    "SceneError",
    "SceneSpec",
    "actor",
    "compose",
    "ground_truth",
    "merge",
    "read_frames",
    "render",
    "render_background",
    "scene",
]

log = logging.getLogger(__name__)


def compose(spec: SceneSpec, path: str | Path, crf: int = 26, preset: str = "veryfast") -> (
    GroundTruth
):
    """Write ``spec`` to ``path`` as H.264 MP4 (keyframe every second); return the truth.

    The file appears under its final name only once complete, so a reader never
    sees half a scene.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise SceneError(f"cannot write {path}: folder {path.parent} does not exist")
    partial = path.with_name(path.name + ".partial")
    gop = max(1, spec.fps)
    try:
        with av.open(str(partial), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=spec.fps)
            stream.width, stream.height = spec.size
            stream.pix_fmt = "yuv420p"
            stream.codec_context.options = {
                "crf": str(crf),
                "preset": preset,
                "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0",
            }
            for i, (_, image) in enumerate(render(spec)):
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = i
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(partial, path)
    except (av.FFmpegError, OSError) as exc:
        raise SceneError(f"cannot write {path}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    log.debug("composed %s: %d frames", path, spec.frame_count)
    return ground_truth(spec)


def read_frames(
    path: str | Path, fps: float | None = None, size: tuple[int, int] | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """(t, RGB frame) from a composed MP4, optionally thinned to ``fps`` and resized.

    Times come from the stream's timestamps, so they match the ground truth.
    """
    reformatter = VideoReformatter()  # one scaler for all frames: ~7x cheaper than per frame
    next_t = 0.0
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise SceneError(f"cannot read {path}: {exc}") from exc
    with container:
        stream = container.streams.video[0]
        base = stream.time_base
        for frame in container.decode(stream):
            t = float(frame.pts * base) if frame.pts is not None and base else next_t
            if fps is not None and t + 1e-6 < next_t:
                continue
            next_t = t + (1.0 / fps if fps else 0.0)
            width, height = size or (frame.width, frame.height)
            rgb = reformatter.reformat(frame, format="rgb24", width=width, height=height)
            yield t, rgb.to_ndarray()
