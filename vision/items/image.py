"""The counter crop against its empty reference, block by block (numpy, the image edge).

The crop is scaled to a grid of ``rows`` block rows of ``block_px`` pixels. A
block has changed when any of three tests says so, each blind to lighting:

- texture: the zero-mean normalised correlation of the block's luma with the
  reference's is below ``ncc_min`` (gain and offset cancel, so a brightness
  change or a shadow over the whole block does not count); only where either
  block has texture (coefficient of variation >= ``flat_cv``);
- brightness: the block's brightness ratio to the reference, divided by the
  median ratio over the counter (global lighting cancels), is outside
  [``dark_ratio``, ``bright_ratio``]: a black wallet on a brown desk is ~0.3, a
  white cup ~2; a soft shadow is ~0.6-0.8, so ``dark_ratio`` sits below it;
- colour: the chromaticity (r, g share of r+g+b, unchanged by brightness)
  differs by more than ``chroma_max``, where both blocks are bright enough for
  the share to mean something.

Changed blocks are grouped into regions (vision/items/rules.py ``components``) with a
colour signature of each, now and in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vision.items.rules import Block, Colour, Learn, Refresh, Region, components


@dataclass(frozen=True, slots=True)
class CompareParams:
    """Grid size and the thresholds of the three tests."""

    rows: int = 6
    block_px: int = 8
    ncc_min: float = 0.35
    flat_cv: float = 0.06
    dark_ratio: float = 0.5
    bright_ratio: float = 1.7
    chroma_max: float = 0.05
    chroma_min_luma: float = 30.0
    refresh_rate: float = 0.02  # share of the current frame blended in per refresh
    motion_blocks: int = 1  # this many blocks changed since the last frame = moving


def grid_shape(crop_w: int, crop_h: int, params: CompareParams) -> tuple[int, int]:
    """(rows, cols) of the block grid for a crop of this size (square-ish blocks)."""
    cols = max(1, round(params.rows * crop_w / max(1, crop_h)))
    return params.rows, cols


def prepare(crop: np.ndarray, params: CompareParams) -> np.ndarray:
    """The crop scaled to the block grid, float32 RGB."""
    rows, cols = grid_shape(crop.shape[1], crop.shape[0], params)
    size = (cols * params.block_px, rows * params.block_px)
    small = Image.fromarray(np.ascontiguousarray(crop)).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(small, np.float32)


def _blocks(img: np.ndarray, b: int) -> np.ndarray:
    h, w = img.shape[:2]
    return img.reshape(h // b, b, w // b, b, -1).transpose(0, 2, 1, 3, 4).reshape(
        h // b, w // b, b * b, -1)


def _luma(img: np.ndarray) -> np.ndarray:
    return img @ np.array([0.299, 0.587, 0.114], np.float32)


def changed_mask(cur: np.ndarray, ref: np.ndarray, params: CompareParams) -> np.ndarray:
    """(rows, cols) bool: the blocks where ``cur`` differs from ``ref`` (both prepared)."""
    b = params.block_px
    lc = _blocks(_luma(cur)[..., None], b)[..., 0]
    lr = _blocks(_luma(ref)[..., None], b)[..., 0]
    mc, mr = lc.mean(-1), lr.mean(-1)
    dc, dr = lc - mc[..., None], lr - mr[..., None]
    sc, sr = np.sqrt((dc**2).mean(-1)), np.sqrt((dr**2).mean(-1))
    ncc = (dc * dr).mean(-1) / np.maximum(sc * sr, 1e-6)
    textured = (sc / np.maximum(mc, 1.0) >= params.flat_cv) | (
        sr / np.maximum(mr, 1.0) >= params.flat_cv)
    texture = textured & (ncc < params.ncc_min)
    ratio = (mc + 1.0) / (mr + 1.0)
    ratio = ratio / float(np.median(ratio))
    brightness = (ratio < params.dark_ratio) | (ratio > params.bright_ratio)
    cc, cr = _chroma(cur, b), _chroma(ref, b)
    bright = (mc >= params.chroma_min_luma) & (mr >= params.chroma_min_luma)
    colour = bright & (np.abs(cc - cr).max(-1) > params.chroma_max)
    return np.asarray(texture | brightness | colour)


def _chroma(img: np.ndarray, b: int) -> np.ndarray:
    mean = _blocks(img, b).mean(2)  # rows, cols, 3
    return mean[..., :2] / np.maximum(mean.sum(-1, keepdims=True), 1.0)


def _signature(img: np.ndarray, blocks: frozenset[Block], b: int) -> Colour:
    mean = _blocks(img, b).mean(2)
    level = float(np.median(_luma(mean)))
    picked = np.array([mean[r, c] for r, c in sorted(blocks)], np.float32).mean(0)
    total = max(float(picked.sum()), 1.0)
    brightness = float(_luma(picked)) / max(level, 1.0)
    return (float(picked[0]) / total, float(picked[1]) / total, brightness / 4.0)


def regions(cur: np.ndarray, ref: np.ndarray, mask: np.ndarray,
            params: CompareParams) -> tuple[Region, ...]:
    """The changed blocks of ``mask`` as regions with their colour now and before."""
    blocks = [(int(r), int(c)) for r, c in zip(*np.nonzero(mask), strict=True)]
    return tuple(
        Region(g, _signature(cur, g, params.block_px), _signature(ref, g, params.block_px))
        for g in components(blocks)
    )


class CounterReference:
    """The reference image of the counter (prepared size) and the last frame seen."""

    def __init__(self, params: CompareParams | None = None) -> None:
        self.params = params or CompareParams()
        self.image: np.ndarray | None = None
        self.previous: np.ndarray | None = None

    def compare(self, cur: np.ndarray) -> tuple[tuple[Region, ...], bool]:
        """(regions differing from the reference, moving since the last frame)."""
        p = self.params
        moving = False
        if self.previous is not None and self.previous.shape == cur.shape:
            moving = int(changed_mask(cur, self.previous, p).sum()) >= p.motion_blocks
        self.previous = cur
        if self.image is None or self.image.shape != cur.shape:
            return (), moving
        return regions(cur, self.image, changed_mask(cur, self.image, p), p), moving

    def apply(self, action: Learn | Refresh, cur: np.ndarray) -> None:
        """Carry out what the item rules asked for, on the prepared current frame."""
        b = self.params.block_px
        if isinstance(action, Learn) and (action.blocks is None or self.image is None):
            self.image = cur.copy()
            return
        assert self.image is not None
        if isinstance(action, Learn):
            assert action.blocks is not None
            for r, c in action.blocks:
                self.image[r * b:(r + 1) * b, c * b:(c + 1) * b] = cur[
                    r * b:(r + 1) * b, c * b:(c + 1) * b]
            return
        weight = np.full(self.image.shape[:2], self.params.refresh_rate, np.float32)
        for r, c in action.keep:
            weight[r * b:(r + 1) * b, c * b:(c + 1) * b] = 0.0
        self.image += (cur - self.image) * weight[..., None]
