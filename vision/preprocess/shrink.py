"""The letterbox's common shrink (by a factor in (1, 2]) in numpy, equal to PIL's bit for bit.

``vision.preprocess.letterbox.resize`` shrinks by ``f`` with PIL: a NEAREST resize to
k times the target, then ``reduce(k)`` (k = 2 for every ``f`` up to 2, which
is what a zone crop of a 640 x 360 analysis frame needs for both models).
PIL works on 4-byte pixels: wrapping the crop unpacks RGB to RGBX, and
reading the result packs it back, two passes on top of the resize. Here the
same samples are gathered straight from the (strided) crop and summed in
uint16, and the rounded mean is written into the caller's buffer, already
scaled to the model's range, in one pass: about half the work.

The sample positions are PIL's own: ``Plan`` asks PIL's NEAREST resize of
an index image which source row and column each oversampled pixel takes, so
the two paths cannot drift apart in rounding. ``reduce(2)`` rounds
``(a + b + c + d + 2) >> 2``, as here. Every other factor stays with PIL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image


def _nearest(n_src: int, n_out: int) -> np.ndarray:
    """Source index PIL's NEAREST resize takes for each of ``n_out`` pixels along an axis."""
    index = Image.fromarray(np.arange(n_src, dtype=np.int32)[None, :], mode="I")
    return np.asarray(index.resize((n_out, 1), Image.Resampling.NEAREST), dtype=np.intp)[0]


@dataclass(frozen=True, slots=True)
class Plan:
    """Where the four samples of each output pixel come from (rows; columns x 3 channels)."""

    new_w: int
    new_h: int
    rows0: np.ndarray
    rows1: np.ndarray
    cols0: np.ndarray
    cols1: np.ndarray


@lru_cache(maxsize=64)
def plan(src_w: int, src_h: int, new_w: int, new_h: int) -> Plan | None:
    """The gather tables for a ``src`` -> ``new`` shrink, or None when PIL must do it.

    None unless ``resize`` would take k = 2 (1 < factor <= 2). Cached: a unit
    has a few zone geometries and each is asked for every frame.
    """
    factor = max(src_w / new_w, src_h / new_h)
    if factor <= 1.0 or math.ceil(factor) != 2:
        return None
    rows = _nearest(src_h, 2 * new_h)
    cols = 3 * _nearest(src_w, 2 * new_w)
    channels = np.arange(3, dtype=np.intp)
    tables = [np.ascontiguousarray(t) for t in (
        rows[0::2], rows[1::2], (cols[0::2, None] + channels).ravel(),
        (cols[1::2, None] + channels).ravel(),
    )]
    for table in tables:
        table.setflags(write=False)  # shared by every caller of the cache
    return Plan(new_w, new_h, *tables)


def shrink_into(image: np.ndarray, p: Plan, out: np.ndarray, scale: float,
                offset: float) -> None:
    """Write the shrunk ``image`` (H x W x 3 uint8, any strides) into ``out``.

    ``out`` is new_h x new_w x 3: uint8 gets the pixels as PIL's resize gives
    them; float32 gets ``pixel * scale + offset`` computed in float32, as
    ``vision.tflite_model.fill`` does with PIL's result.
    """
    rows = np.add(image[p.rows0], image[p.rows1], dtype=np.uint16).reshape(p.new_h, -1)
    # take, not rows[:, cols]: that returns a column-major array, and every
    # pass after it (and the write into ``out``) would then run across rows.
    acc = np.take(rows, p.cols0, axis=1)
    acc += np.take(rows, p.cols1, axis=1)
    acc += 2
    acc >>= 2
    pixels = acc.reshape(p.new_h, p.new_w, 3)
    if out.dtype == np.uint8:
        out[...] = pixels  # values <= 255
        return
    values = pixels.astype(np.float32)  # float32 throughout: float64 costs twice the time
    values *= np.float32(scale)
    if offset:
        values += np.float32(offset)
    out[...] = values

