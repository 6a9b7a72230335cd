"""A person's appearance as a small colour signature, from the zone's block thumbnail.

The foreground analysis already reduces each zone crop to a grid of block-mean
colours and marks the blocks that differ from the empty zone. The signature is
a histogram of the person's blocks (foreground, lighting gain removed): a
brightness histogram and a chromaticity histogram. It costs microseconds, is
stable while a person stands and turns a little, and differs between people
dressed differently; in a monochrome picture the brightness part carries it.
It ends with where the foreground is (its centre, as fractions of the zone),
so the tracker can tell someone walking through from someone who stops.
"""

from __future__ import annotations

import numpy as np

LUMA_BINS = 12
CHROMA_BINS = 6  # per axis of (r, g) chromaticity
MIN_BLOCKS = 12  # fewer foreground blocks than this: no signature
HIST = LUMA_BINS + CHROMA_BINS * CHROMA_BINS  # the histograms; then the centre (x, y)


def signature(thumb: np.ndarray, mask: np.ndarray | None, gain: float = 1.0) -> np.ndarray | None:
    """Signature of the blocks under ``mask`` (all blocks without one); None if too few.

    ``thumb`` is the (rows, cols, 3) block-mean thumbnail, ``gain`` the lighting
    gain against the reference (divided out, so a dimmed person matches). The
    last two values are the mask's centre (x, y) in 0..1 of the zone, NaN
    without a mask.
    """
    pix = thumb.reshape(-1, 3) if mask is None else thumb[mask]
    if pix.shape[0] < MIN_BLOCKS:
        return None
    pix = np.clip(pix / max(gain, 1e-3), 0.0, 255.0)
    luma = pix @ np.array([0.299, 0.587, 0.114], np.float32)
    lh = np.bincount(np.minimum((luma * LUMA_BINS / 256.0).astype(np.int64), LUMA_BINS - 1),
                     minlength=LUMA_BINS).astype(np.float32)
    total = pix.sum(axis=1) + 1e-3
    rg = np.minimum((pix[:, :2] / total[:, None] * CHROMA_BINS * 1.5).astype(np.int64),
                    CHROMA_BINS - 1)  # chromaticity rarely exceeds 2/3
    ch = np.bincount(rg[:, 0] * CHROMA_BINS + rg[:, 1],
                     minlength=CHROMA_BINS * CHROMA_BINS).astype(np.float32)
    if mask is None:
        centre = np.array([np.nan, np.nan], np.float32)
    else:
        rows, cols = np.nonzero(mask)
        centre = np.array([(cols.mean() + 0.5) / mask.shape[1],
                           (rows.mean() + 0.5) / mask.shape[0]], np.float32)
    return np.concatenate([lh / lh.sum(), ch / ch.sum(), centre])


def position(sig: np.ndarray | None) -> tuple[float, float] | None:
    """Where the signed foreground was: (x, y) in 0..1 of the zone, None if unknown."""
    if sig is None or sig.shape[0] <= HIST or not np.all(np.isfinite(sig[HIST:HIST + 2])):
        return None
    return float(sig[HIST]), float(sig[HIST + 1])


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """0 (same) .. 1 (disjoint): mean Hellinger distance of the two histograms."""
    parts = []
    for lo, hi in ((0, LUMA_BINS), (LUMA_BINS, HIST)):
        bc = float(np.sum(np.sqrt(a[lo:hi] * b[lo:hi])))
        parts.append(float(np.sqrt(max(0.0, 1.0 - bc))))
    return (parts[0] + parts[1]) / 2


def mean_signature(sigs: list[np.ndarray]) -> np.ndarray | None:
    """The average of several signatures (None for none)."""
    if not sigs:
        return None
    return np.mean(np.stack(sigs), axis=0)
