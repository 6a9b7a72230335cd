"""Calibration images for the int8 models: photographs that ship in packages.

The same photographs the composed scenes are cut from (scikit-image's sample
data, Debian ``opencv-doc``), whole and as halves (a zone is about half the
frame), plus the empty counter background the scenes are drawn on. The
composed evaluation scenes themselves are not used: parity is measured on
them. Deterministic: same packages, same images, same order.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from vision.compose.actors import ACTORS, OPENCV_DATA, ActorError
from vision.compose.render import render_background
from vision.compose.samples import sample
from vision.compose.spec import Background

# Whole photographs, in addition to every scene actor's own crop.
SKIMAGE = ("astronaut", "camera", "coffee", "chelsea")
OPENCV = ("basketball1.png", "basketball2.png", "messi5.jpg", "home.jpg", "fruits.jpg",
          "baboon.jpg", "building.jpg", "stuff.jpg")
BACKGROUND_SIZE = (640, 360)


def _whole(name: str) -> np.ndarray:
    if name in SKIMAGE:
        image = sample(name)
    else:
        from PIL import Image

        path = OPENCV_DATA / name
        if not path.is_file():
            raise ActorError(f"{path} is missing: install the opencv-doc package (`make apt`)")
        with Image.open(path) as im:
            image = np.asarray(im.convert("RGB"))
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3], dtype=np.uint8)


def _halves(image: np.ndarray) -> Iterator[np.ndarray]:
    w = image.shape[1]
    yield image
    yield image[:, : w // 2]
    yield image[:, w // 2 :]


def images() -> Iterator[tuple[str, np.ndarray]]:
    """(label, RGB uint8 image) pairs, in a fixed order."""
    for name in (*SKIMAGE, *OPENCV):
        for k, part in enumerate(_halves(_whole(name))):
            yield f"{name}#{k}", part
    for name, a in ACTORS.items():
        yield f"actor:{name}", a.image()
    bg = render_background(Background(), *BACKGROUND_SIZE)
    for k, part in enumerate(_halves(bg)):
        yield f"background#{k}", part


def describe() -> str:
    """One line for the manifest."""
    labels = [label for label, _ in images()]
    return (
        f"{len(labels)} images: scikit-image {', '.join(SKIMAGE)} and opencv-doc "
        f"{', '.join(OPENCV)}, each whole and as left/right halves; every scene actor crop "
        f"({len(ACTORS)}); the empty counter background {BACKGROUND_SIZE[0]}x"
        f"{BACKGROUND_SIZE[1]} whole and halves. Letterboxed as the pipeline does. "
        "Composed evaluation scenes are not used."
    )
