"""Letterboxing a crop into a square model input, and mapping points back."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image


class ImageError(ValueError):
    """An image handed to the vision pipeline has the wrong shape or type."""


def check_rgb(image: np.ndarray) -> None:
    """Raise ImageError unless ``image`` is a non-empty H x W x 3 uint8 array."""
    if not isinstance(image, np.ndarray):
        raise ImageError(f"expected a numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageError(f"expected an H x W x 3 RGB image, got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ImageError(f"expected uint8 pixels, got {image.dtype}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ImageError(f"image too small: {image.shape[1]}x{image.shape[0]}")


@dataclass(frozen=True, slots=True)
class Letterbox:
    """Where a source image sits inside the square model input."""

    size: int
    src_w: int
    src_h: int
    new_w: int
    new_h: int
    pad_x: int
    pad_y: int

    def to_source(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model-relative coordinates (0..1 of the square) -> source-relative (0..1)."""
        sx = (x * self.size - self.pad_x) / self.new_w
        sy = (y * self.size - self.pad_y) / self.new_h
        return sx, sy

    def inside(self) -> tuple[slice, slice]:
        """Row and column slices of the model input that hold the image, not padding."""
        return (
            slice(self.pad_y, self.pad_y + self.new_h),
            slice(self.pad_x, self.pad_x + self.new_w),
        )


def resize(pil: Image.Image, new_w: int, new_h: int) -> Image.Image:
    """Anti-aliased resize that costs about a third of PIL's bilinear on a zone crop.

    Shrinking by ``f`` takes k x k nearest samples per output pixel (k =
    ceil(f), at least 2) and averages them (a supersampled box filter): the
    output pixel's whole footprint is covered, so fine texture does not alias,
    and both steps are PIL's cheapest kernels. Enlarging is plain bilinear.
    """
    factor = max(pil.width / new_w, pil.height / new_h)
    if factor <= 1.0:
        return pil.resize((new_w, new_h), Image.Resampling.BILINEAR)
    k = max(2, math.ceil(factor))
    return pil.resize((new_w * k, new_h * k), Image.Resampling.NEAREST).reduce(k)


def place(image: np.ndarray, size: int) -> Letterbox:
    """Where ``image`` sits, resized to fit a ``size`` square with its aspect kept."""
    check_rgb(image)
    h, w = image.shape[:2]
    scale = size / max(w, h)
    new_w = max(1, min(size, round(w * scale)))
    new_h = max(1, min(size, round(h * scale)))
    return Letterbox(size, w, h, new_w, new_h, (size - new_w) // 2, (size - new_h) // 2)


def fit(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """``image`` resized to fit a ``size`` square (aspect kept), and where it sits in it."""
    lb = place(image, size)
    # A zone crop is a strided view; one contiguous copy lets PIL wrap it without
    # a second, slower line-by-line copy.
    src = np.ascontiguousarray(image)
    pil = Image.frombuffer("RGB", (lb.src_w, lb.src_h), src, "raw", "RGB", 0, 1)
    return np.asarray(resize(pil, lb.new_w, lb.new_h)), lb


def letterbox(image: np.ndarray, size: int, out: np.ndarray | None = None) -> tuple[
    np.ndarray, Letterbox
]:
    """Fit ``image`` into a ``size`` x ``size`` uint8 canvas, centred, aspect kept.

    The padding is black, as MediaPipe's own image-to-tensor step pads. ``out``
    lets a caller reuse one canvas instead of allocating per frame.
    """
    resized, lb = fit(image, size)
    if out is None:
        out = np.zeros((size, size, 3), np.uint8)
    else:
        out[...] = 0
    rows, cols = lb.inside()
    out[rows, cols] = resized
    return out, lb
