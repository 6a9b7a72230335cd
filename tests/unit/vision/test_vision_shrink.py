"""The numpy shrink equals PIL's resize bit for bit, and fill's two paths agree."""

from __future__ import annotations

import numpy as np
import pytest

from vision.preprocess.letterbox import fit, place
from vision.preprocess.shrink import plan, shrink_into
from vision.tflite_model import fill

# (source w, h, model side): zone crops of common analysis sizes, odd and
# near-limit factors (just over 1, exactly 2), wide and tall crops.
GEOMETRIES = [
    (320, 360, 224), (320, 360, 256), (640, 360, 224), (640, 360, 256),
    (192, 216, 224), (448, 448, 224), (449, 300, 224), (257, 256, 256),
    (225, 150, 224), (511, 97, 256), (97, 511, 256), (301, 333, 199),
    (1280, 720, 640), (640, 720, 360), (513, 257, 256), (400, 333, 223),
]


def reference(image: np.ndarray, size: int, dtype: type, scale: float,
              offset: float) -> np.ndarray:
    """The PIL path as fill had it before the numpy shrink: fit, then scale into a canvas."""
    resized, lb = fit(image, size)
    canvas: np.ndarray = np.full((size, size, 3), 0 if dtype is np.uint8 else offset, dtype)
    inside = canvas[lb.inside()]
    if dtype is np.uint8:
        inside[...] = resized
    else:
        np.multiply(resized, np.float32(scale), out=inside, casting="unsafe")
        if offset:
            inside += np.float32(offset)
    return canvas


@pytest.mark.parametrize(("w", "h", "size"), GEOMETRIES)
def test_shrink_equals_pil(w: int, h: int, size: int) -> None:
    rng = np.random.default_rng(w * 1000 + h)
    frame = rng.integers(0, 256, (h + 3, w + 5, 3), dtype=np.uint8)
    image = frame[1:h + 1, 2:w + 2]  # a strided view, as a zone crop is
    lb = place(image, size)
    p = plan(w, h, lb.new_w, lb.new_h)
    factor = max(w / lb.new_w, h / lb.new_h)
    assert (p is not None) == (1.0 < factor <= 2.0)
    if p is None:
        return
    out = np.empty((lb.new_h, lb.new_w, 3), np.uint8)
    shrink_into(image, p, out, 1.0, 0.0)
    assert np.array_equal(out, fit(image, size)[0])


@pytest.mark.parametrize(("w", "h", "size"), GEOMETRIES)
@pytest.mark.parametrize(("dtype", "scale", "offset"), [
    (np.uint8, 2.0 / 255.0, -1.0), (np.float32, 2.0 / 255.0, -1.0), (np.float32, 1.0 / 255.0, 0.0),
])
def test_fill_equals_the_pil_path(w: int, h: int, size: int, dtype: type, scale: float,
                                  offset: float) -> None:
    rng = np.random.default_rng(w + 7 * h)
    image = rng.integers(0, 256, (h, w + 4, 3), dtype=np.uint8)[:, 4:]
    pixels: np.ndarray = np.empty((size, size, 3), dtype)
    fill(pixels, None, image, size, scale, offset)
    assert np.array_equal(pixels, reference(image, size, dtype, scale, offset))
    # A second fill with the same geometry keeps the padding it already wrote.
    again = rng.integers(0, 256, image.shape, dtype=np.uint8)
    fill(pixels, place(image, size), again, size, scale, offset)
    assert np.array_equal(pixels, reference(again, size, dtype, scale, offset))


def test_plans_are_cached_and_read_only() -> None:
    p = plan(320, 360, 199, 224)
    assert p is not None and p is plan(320, 360, 199, 224)
    with pytest.raises(ValueError):
        p.rows0[0] = 1
