"""Composed counter scenes with things on the counter top: props, hands and shadows.

Extends the scene composer (vision/compose/render.py) with what the item suite
needs: a :class:`Prop` is an object photograph lying on the desk from ``start``
to ``end`` (a cup, fruit, a card wallet, a box, papers, a staff member's hand
that sways), a :class:`Shadow` is a soft dark patch crossing the desk. Object
images ship in packages: scikit-image's sample data and Debian's ``opencv-doc``.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

from vision.compose.actors import OPENCV_DATA, ActorError
from vision.compose.render import Renderer, _fit
from vision.compose.samples import sample
from vision.compose.spec import SceneError, SceneSpec


def _sk(name: str, box: tuple[int, int, int, int] | None = None) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        im = Image.fromarray(sample(name)).convert("RGB")
        return im.crop(box) if box else im

    return load


def _cv(file: str, box: tuple[int, int, int, int] | None = None) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        path = OPENCV_DATA / file
        if not path.is_file():
            raise ActorError(f"{path} is missing: install the opencv-doc package (`make apt`)")
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            return rgb.crop(box) if box else rgb

    return load


# name -> (where it comes from, loader)
OBJECTS: dict[str, tuple[str, Callable[[], Image.Image]]] = {
    "cup": ("skimage coffee (cup and saucer)", _sk("coffee", (100, 10, 480, 320))),
    "apple": ("opencv-doc apple.jpg", _cv("apple.jpg", (60, 30, 470, 470))),
    "orange": ("opencv-doc orange.jpg", _cv("orange.jpg", (40, 60, 480, 470))),
    "cards": ("opencv-doc cards.png (a card wallet)", _cv("cards.png", (60, 40, 300, 250))),
    "box": ("opencv-doc box.png (a phone-sized box)", _cv("box.png")),
    "sweets": ("opencv-doc smarties.png", _cv("smarties.png", (0, 200, 200, 380))),
    "paper": ("skimage page (a printed sheet)", _sk("page")),
    "hand": ("skimage astronaut (skin of the cheek)", _sk("astronaut", (215, 120, 265, 170))),
}


@functools.cache
def object_image(name: str) -> np.ndarray:
    """The object's RGB image (cached, read-only)."""
    if name not in OBJECTS:
        raise ActorError(f"unknown object {name!r}; known: {', '.join(sorted(OBJECTS))}")
    image = np.asarray(OBJECTS[name][1]())
    image.setflags(write=False)
    return image


@dataclass(frozen=True, slots=True)
class Prop:
    """``obj`` lies on the desk, centred at ``x`` (frame fraction), from ``start`` to ``end``.

    ``height`` is a share of the desk strip's height; ``sway_px`` moves it to and
    fro (a hand at work), ``y`` places its centre within the strip (0 top, 1 bottom).
    """

    obj: str
    x: float
    start: float
    end: float
    height: float = 0.6
    y: float = 0.55
    sway_px: float = 0.0


@dataclass(frozen=True, slots=True)
class Shadow:
    """A soft shadow ``width`` wide (frame fraction) crossing the desk from ``x_from`` to
    ``x_to`` between ``start`` and ``end``; ``depth`` is the light left under it."""

    start: float
    end: float
    x_from: float
    x_to: float
    width: float = 0.2
    depth: float = 0.65


@dataclass(frozen=True, slots=True)
class ItemScene:
    """A scene and what lies on its counter."""

    spec: SceneSpec
    props: tuple[Prop, ...] = ()
    shadows: tuple[Shadow, ...] = ()

    def __post_init__(self) -> None:
        for p in self.props:
            object_image(p.obj)
            if not 0 <= p.start < p.end:
                raise SceneError(f"prop {p.obj}: needs 0 <= start < end")


class ItemsRenderer(Renderer):
    """The base renderer plus props and shadows on the desk (before lighting)."""

    def __init__(self, scene: ItemScene) -> None:
        super().__init__(scene.spec)
        self.scene = scene
        self.desk_h = self.height - self.desk_y
        self._props: dict[tuple[str, int], np.ndarray] = {}

    def _prop(self, p: Prop) -> np.ndarray:
        h = max(2, int(p.height * self.desk_h))
        key = (p.obj, h)
        if key not in self._props:
            self._props[key] = _fit(object_image(p.obj), self.width, h)
        return self._props[key]

    def _draw_props(self, out: np.ndarray, t: float) -> None:
        for p in self.scene.props:
            if not p.start <= t < p.end:
                continue
            sprite = self._prop(p)
            sh, sw = sprite.shape[:2]
            sway = p.sway_px * math.sin(2 * math.pi * t / 1.3)
            x = round(p.x * self.width - sw / 2 + sway)
            y = round(self.desk_y + p.y * self.desk_h - sh / 2)
            x0, y0 = max(0, x), max(self.desk_y, y)
            x1, y1 = min(self.width, x + sw), min(self.height, y + sh)
            if x1 > x0 and y1 > y0:
                out[y0:y1, x0:x1] = sprite[y0 - y:y1 - y, x0 - x:x1 - x]

    def _draw_shadows(self, out: np.ndarray, t: float) -> None:
        cols = np.arange(self.width, dtype=np.float32) / self.width
        for s in self.scene.shadows:
            if not s.start <= t < s.end:
                continue
            cx = s.x_from + (s.x_to - s.x_from) * (t - s.start) / (s.end - s.start)
            # A penumbra as wide as the core: soft edges, as a person's shadow has.
            d = np.clip((np.abs(cols - cx) - s.width / 4) / (s.width / 4), 0.0, 1.0)
            gain = s.depth + (1.0 - s.depth) * d
            desk = out[self.desk_y:].astype(np.float32) * gain[None, :, None]
            out[self.desk_y:] = np.clip(desk, 0, 255).astype(np.uint8)

    def frame(self, t: float) -> np.ndarray:
        """The RGB frame at ``t``: people, then the desk with its props, then the light."""
        out = self._unlit(t)
        self._draw_props(out, t)
        self._draw_shadows(out, t)
        f = self.light(t)
        if abs(f - 1.0) > 1e-3:
            lut = np.clip(np.arange(256, dtype=np.float32) * f, 0, 255).astype(np.uint8)
            out = lut[out]
        return out

    def _unlit(self, t: float) -> np.ndarray:
        # The base frame without its lighting (Renderer.frame applies light last).
        out = self.background.copy()
        for p in self.spec.passers:
            self._draw_passer(out, p, t)
        for k, a in enumerate(self.spec.appearances):
            self._draw_appearance(out, k, a, t)
        out[self.desk_y:] = self.background[self.desk_y:]  # people stand behind the desk
        return out


def compose_items(scene: ItemScene, path: str | Path, crf: int = 26) -> None:
    """Write ``scene`` to ``path`` as H.264 MP4 (keyframe every second), atomically."""
    path = Path(path)
    spec = scene.spec
    if not path.parent.is_dir():
        raise SceneError(f"cannot write {path}: folder {path.parent} does not exist")
    partial = path.with_name(path.name + ".partial")
    renderer = ItemsRenderer(scene)
    try:
        with av.open(str(partial), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=spec.fps)
            stream.width, stream.height = spec.size
            stream.pix_fmt = "yuv420p"
            gop = max(1, spec.fps)
            stream.codec_context.options = {
                "crf": str(crf), "preset": "ultrafast",
                "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
            for i in range(spec.frame_count):
                frame = av.VideoFrame.from_ndarray(renderer.frame(i / spec.fps), format="rgb24")
                frame.pts = i
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(partial, path)
    except (av.FFmpegError, OSError) as exc:
        raise SceneError(f"cannot write {path}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
