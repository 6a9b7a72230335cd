"""Actors for composed test scenes, cut from photographs that ship in packages.

People come from scikit-image's sample data and Debian's ``opencv-doc``
examples (installed by ``make apt``). Each actor is a tight crop around its
subject so it can be pasted large into a zone, as a person at a counter is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from vision.compose.samples import sample

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")

Kind = Literal["person", "object", "animal", "poster"]
View = Literal["front", "side", "back", "none"]


class ActorError(RuntimeError):
    """An actor's source image is not installed or cannot be read."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A named subject: what it is, which way it faces, and how to load it."""

    name: str
    kind: Kind
    view: View
    source: str
    load: Callable[[], np.ndarray]

    @property
    def is_person(self) -> bool:
        return self.kind == "person"

    def image(self) -> np.ndarray:
        """The actor's RGB uint8 image (cached, read-only)."""
        return _cached(self.name)


def _rgb(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return np.ascontiguousarray(array[..., :3], dtype=np.uint8)


def _skimage(name: str, box: tuple[int, int, int, int] | None = None) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        image = _rgb(sample(name))
        if box is not None:
            x0, y0, x1, y1 = box
            image = image[y0:y1, x0:x1]
        return image

    return load


def _opencv(file: str, box: tuple[int, int, int, int] | None = None) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        path = OPENCV_DATA / file
        if not path.is_file():
            raise ActorError(f"{path} is missing: install the opencv-doc package (`make apt`)")
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            if box is not None:
                rgb = rgb.crop(box)
            return np.asarray(rgb)

    return load


def _vtest(frame_index: int, box: tuple[int, int, int, int], upscale: int) -> Callable[
    [], np.ndarray
]:
    def load() -> np.ndarray:
        import av

        path = OPENCV_DATA / "vtest.avi"
        if not path.is_file():
            raise ActorError(f"{path} is missing: install the opencv-doc package (`make apt`)")
        with av.open(str(path)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i == frame_index:
                    im = frame.to_image().crop(box)
                    size = (im.width * upscale, im.height * upscale)
                    return np.asarray(im.resize(size, Image.Resampling.BICUBIC))
        raise ActorError(f"{path} has fewer than {frame_index + 1} frames")

    return load


_ACTORS: tuple[Actor, ...] = (
    Actor("astronaut", "person", "front", "skimage astronaut", _skimage("astronaut")),
    Actor("cameraman", "person", "side", "skimage camera", _skimage("camera", (80, 40, 380, 512))),
    # The whole photograph: the man fills less of the zone, as when a customer
    # stands back from the counter. His landmark flag is weak in this framing.
    Actor("cameraman_wide", "person", "side", "skimage camera (whole)", _skimage("camera")),
    Actor("bb1_front", "person", "front", "basketball1.png left",
          _opencv("basketball1.png", (0, 0, 260, 480))),
    Actor("bb2_front", "person", "front", "basketball2.png left",
          _opencv("basketball2.png", (0, 0, 260, 480))),
    Actor("bb1_back", "person", "back", "basketball1.png right",
          _opencv("basketball1.png", (420, 0, 640, 480))),
    Actor("bb2_back", "person", "back", "basketball2.png right",
          _opencv("basketball2.png", (420, 0, 640, 480))),
    Actor("messi", "person", "front", "messi5.jpg", _opencv("messi5.jpg", (150, 0, 500, 342))),
    Actor("vtest_back", "person", "back", "vtest.avi frame 300",
          _vtest(300, (290, 190, 370, 310), 4)),
    Actor("coffee", "object", "none", "skimage coffee", _skimage("coffee")),
    Actor("box", "object", "none", "box.png", _opencv("box.png")),
    Actor("fruits", "object", "none", "fruits.jpg", _opencv("fruits.jpg")),
    Actor("stuff", "object", "none", "stuff.jpg", _opencv("stuff.jpg")),
    Actor("cat", "animal", "none", "skimage chelsea", _skimage("chelsea")),
    Actor("baboon", "animal", "none", "baboon.jpg", _opencv("baboon.jpg")),
    # Posters are part of the background: a printed face, and a plain picture.
    Actor("face_poster", "poster", "front", "skimage astronaut face",
          _skimage("astronaut", (130, 0, 360, 300))),
    Actor("building_poster", "poster", "none", "home.jpg", _opencv("home.jpg")),
)

ACTORS: dict[str, Actor] = {a.name: a for a in _ACTORS}


@functools.cache
def _cached(name: str) -> np.ndarray:
    image = ACTORS[name].load()
    image.setflags(write=False)
    return image


def actor(name: str) -> Actor:
    """The actor called ``name``; ActorError lists the known names otherwise."""
    try:
        return ACTORS[name]
    except KeyError:
        raise ActorError(f"unknown actor {name!r}; known: {', '.join(sorted(ACTORS))}") from None
