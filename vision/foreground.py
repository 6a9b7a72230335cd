"""Foreground against a learned empty-zone reference, robust to lighting changes.

A zone crop is reduced to a small grid of block-mean colours (a thumbnail).
The reference is the thumbnail of the empty zone. A whole-frame lighting change
scales every background block by the same gain, so the gain is estimated as the
mode of the per-block brightness ratios (the background agrees on one ratio,
a person's blocks scatter) and removed before blocks are compared.

The reference only learns from frames the caller judged to hold no person and
that are stable (no motion since the previous frame): fast where the blocks
already match (slow lighting drift), slowly where they do not (an object left
on the counter is absorbed over ``absorb_tau_s``). A seated person is never
offered for learning, so can never be absorbed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True, slots=True)
class ForegroundParams:
    """Tuning of the block comparison and of reference learning.

    grid: thumbnail size (columns, rows). rel_threshold / abs_threshold: a
    block is foreground when its gain-compensated colour differs by more than
    both (relative to the reference, and in 0..255 levels). min_gain/max_gain:
    plausible lighting gains. learn_tau_s / absorb_tau_s: time constants for
    matching blocks and for blocks that differ. init_frames: stable empty
    frames needed before the first reference is taken.
    """

    grid: tuple[int, int] = (24, 24)
    rel_threshold: float = 0.15
    abs_threshold: float = 14.0
    min_gain: float = 0.25
    max_gain: float = 2.0
    learn_tau_s: float = 2.0
    absorb_tau_s: float = 30.0
    init_frames: int = 3


@dataclass(frozen=True, slots=True)
class Comparison:
    """Share of blocks that differ from a reference, the lighting gain removed, the mask."""

    fraction: float
    gain: float
    mask: np.ndarray


def thumbnail(crop: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Block-mean colours of an RGB crop as a (rows, cols, 3) float32 array."""
    small = Image.fromarray(crop).resize(grid, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32)


def brightness(thumb: np.ndarray) -> np.ndarray:
    """``thumb.mean(axis=2)`` bit for bit for float thumbnails, at a fifth of its cost.

    numpy sums a length-3 last axis as (r + g) + b in the array's own float type
    and divides by 3 in that type; so does this, without the reduction's
    per-call set-up (the foreground compare runs two or three times a zone-frame).
    """
    if thumb.dtype not in (np.float32, np.float64):  # float16 means sum in float32
        return np.asarray(thumb.mean(axis=2))
    total = thumb[..., 0] + thumb[..., 1]
    total += thumb[..., 2]
    total /= thumb.dtype.type(3)
    return total


_BINS = 48


def estimate_gain(current: np.ndarray, reference: np.ndarray, params: ForegroundParams) -> float:
    """Lighting gain current/reference, from the mode of per-block brightness ratios."""
    cur = brightness(current).ravel()
    ref = brightness(reference).ravel()
    usable = (ref > 12.0) & (cur > 3.0)  # near-black blocks carry no ratio
    if np.count_nonzero(usable) < 4:
        return 1.0
    logs = np.log(cur[usable] / ref[usable])
    lo, hi = math.log(params.min_gain), math.log(params.max_gain)
    width = (hi - lo) / _BINS
    idx = ((logs - lo) / width).astype(np.int64)
    np.maximum(idx, 0, out=idx)
    np.minimum(idx, _BINS - 1, out=idx)
    hist = np.bincount(idx, minlength=_BINS)
    # Each bin plus its neighbours (a 3-wide box, zero outside): the counts are
    # integers, so this equals np.convolve(hist, np.ones(3), "same") exactly.
    smooth = hist.copy()
    smooth[1:] += hist[:-1]
    smooth[:-1] += hist[1:]
    centre = lo + (int(np.argmax(smooth)) + 0.5) * width
    near = logs[np.abs(logs - centre) < 2 * width]
    return float(np.exp(_median(near))) if near.size else float(np.exp(centre))


def _median(values: np.ndarray) -> np.floating:
    """``np.median`` of a non-empty 1-D float array without NaN, in its own float type.

    The middle value, or the two middle ones summed and halved in the array's
    type, as numpy's median does (its mean of a two-element slice); without
    its generic axis and NaN handling, which cost more than the sort here.
    """
    ordered = np.sort(values)
    half = ordered.size // 2
    if ordered.size % 2:
        return ordered[half]
    total = ordered[half - 1] + ordered[half]
    return total / ordered.dtype.type(2)


def compare(current: np.ndarray, reference: np.ndarray, params: ForegroundParams) -> Comparison:
    """Which blocks of ``current`` differ from ``reference`` once lighting is removed."""
    gain = estimate_gain(current, reference, params)
    expected = reference * gain
    delta = np.abs(current - expected)
    # The largest of the three channel differences (np.max(axis=2), without its set-up).
    diff = np.maximum(delta[..., 0], delta[..., 1])
    np.maximum(diff, delta[..., 2], out=diff)
    level = np.maximum(brightness(expected), 1.0)
    mask = (diff > params.rel_threshold * level) & (diff > params.abs_threshold * min(1.0, gain))
    return Comparison(np.count_nonzero(mask) / mask.size, gain, mask)


class EmptyReference:
    """One zone's learned empty view (None until learned)."""

    def __init__(self, params: ForegroundParams | None = None) -> None:
        self.params = params or ForegroundParams()
        self.reference: np.ndarray | None = None
        self._empty_run = 0

    @property
    def learned(self) -> bool:
        return self.reference is not None

    def compare(self, thumb: np.ndarray) -> Comparison | None:
        """Foreground of ``thumb`` against the reference; None before one is learned."""
        if self.reference is None:
            return None
        return compare(thumb, self.reference, self.params)

    def forget(self) -> None:
        """Drop the reference (e.g. the camera was moved)."""
        self.reference = None
        self._empty_run = 0

    def learn(
        self,
        thumb: np.ndarray,
        comparison: Comparison | None,
        dt: float,
        *,
        person: bool,
        stable: bool,
    ) -> None:
        """Offer a frame for learning; ignored unless it holds no person and is stable.

        ``comparison`` is this frame's ``compare`` result (None without a
        reference); ``dt`` the time since the previous frame.
        """
        if person or not stable:
            self._empty_run = 0
            return
        if self.reference is None:
            self._empty_run += 1
            if self._empty_run >= self.params.init_frames:
                self.reference = thumb.copy()
            return
        assert comparison is not None
        fast = 1.0 - math.exp(-dt / self.params.learn_tau_s)
        slow = 1.0 - math.exp(-dt / self.params.absorb_tau_s)
        rate = np.where(comparison.mask, slow, fast)[..., None].astype(np.float32)
        # Learn the scene as it looks under the reference's lighting, so a dip
        # is not baked in.
        target = thumb / max(comparison.gain, 1e-3)
        self.reference += rate * (target - self.reference)
