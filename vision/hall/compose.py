"""Composed hall cases: k people (0..6) walking over vtest.avi's empty plaza.

The plaza is the per-pixel median of vtest.avi sampled once a second (nobody
stands still for long there, so the median is the empty street). The people
are the three pedestrians of vtest's first frame, cut out with their own
foreground masks, scaled to the size a person has at the row they are put on
(``PersonScale``) and walked slowly inside their own cell of a 3 x 2 grid (as
people waiting mill about), so the truth is exactly k at every second. The hall
is empty for the first ``ARRIVE_S`` seconds (a unit learns its background at
opening; people who never move while it learns would be learnt as floor), then
all k are there at once. Rendered 384 x 288 at 5 fps, H.264.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image

from vision.hall.blobs import clean, find_blobs
from vision.hall.geometry import PersonScale
from vision.hall.truth import HallTruth, Sample

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SIZE = (384, 288)
FPS = 5
ARRIVE_S = 4.0
# Feet of the six cells (x, row) in frame fractions, far row first.
CELLS = ((0.2, 0.55), (0.5, 0.55), (0.8, 0.55), (0.2, 0.9), (0.5, 0.9), (0.8, 0.9))

Sprite = tuple[np.ndarray, np.ndarray]  # RGB and mask


def _frames(video: Path, every: int) -> list[np.ndarray]:
    import av

    out = []
    with av.open(str(video)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % every == 0:
                out.append(np.asarray(f.to_image().resize(SIZE, Image.Resampling.BILINEAR)))
    return out


@functools.cache
def plaza_and_people(video: Path = VTEST) -> tuple[np.ndarray, list[Sprite]]:
    """The empty plaza and the people of the first frame as masked sprites."""
    frames = _frames(video, 10)
    plaza = np.median(np.stack(frames), axis=0).astype(np.uint8)
    first = frames[0]
    mask = clean(np.abs(first.astype(np.int16) - plaza).max(axis=2) > 30)
    sprites = []
    h, w = mask.shape
    for b in find_blobs(mask, min_pixels=80):
        x0, y0, x1, y1 = (int(b.box[0] * w), int(b.box[1] * h), int(b.box[2] * w),
                          int(b.box[3] * h))
        sprites.append((first[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1].copy()))
    return plaza, sprites


def _scaled(sprite: Sprite, height_px: int) -> Sprite:
    rgb, mask = sprite
    width = max(2, round(rgb.shape[1] * height_px / rgb.shape[0]))
    im = Image.fromarray(rgb).resize((width, height_px), Image.Resampling.BILINEAR)
    mk = Image.fromarray(mask.astype(np.uint8) * 255).resize((width, height_px),
                                                             Image.Resampling.NEAREST)
    return np.asarray(im), np.asarray(mk) > 127


def render(k: int, t: float, plaza: np.ndarray, sprites: list[Sprite],
           scale: PersonScale) -> np.ndarray:
    """The frame at ``t`` with the first ``k`` cells occupied."""
    out = plaza.copy()
    h, w = out.shape[:2]
    for i in range(k if t >= ARRIVE_S else 0):
        cx, row = CELLS[i]
        # Each walks 0.08 of the width to and fro inside its cell, 20 s a round.
        x = cx + 0.04 * np.sin(2 * np.pi * t / 20.0 + i)
        rgb, mask = _scaled(sprites[i % len(sprites)], round(scale.height(row) * h))
        sh, sw = mask.shape
        left, top = round(x * w - sw / 2), round(row * h) - sh
        region = out[top:top + sh, left:left + sw]
        m = mask[:region.shape[0], :region.shape[1]]
        region[m] = rgb[:region.shape[0], :region.shape[1]][m]
    return out


COUNTS = (0, 2, 4, 6)


def case_name(k: int) -> str:
    return f"composed_{k}"


def compose_case(k: int, folder: Path, duration_s: float = 16.0,
                 scale: PersonScale | None = None) -> HallTruth:
    """Write ``composed_{k}.mp4`` into ``folder``; its truth (k people at every second)."""
    import av

    scale = scale or PersonScale()
    plaza, sprites = plaza_and_people()
    name = case_name(k)
    video = folder / f"{name}.mp4"
    with av.open(str(video), "w") as c:
        stream = c.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        for n in range(int(duration_s * FPS)):
            frame = av.VideoFrame.from_ndarray(render(k, n / FPS, plaza, sprites, scale),
                                               format="rgb24")
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    samples = tuple(Sample(float(t), k if t >= ARRIVE_S else 0) for t in range(int(duration_s)))
    return HallTruth(name, video.name, duration_s, samples, max_mae=0.5,
                     note=f"{k} people from vtest.avi's first frame over its empty plaza from "
                     f"t={ARRIVE_S:g} s, milling about",
                     rule="composed: exactly k people in view", tags=("composed",))
