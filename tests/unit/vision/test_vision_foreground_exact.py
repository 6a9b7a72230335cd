"""The foreground compare's cheaper arithmetic equals the plain numpy spelling, bit for bit.

The plain versions below are the definitions (``mean(axis=2)``, ``np.clip``,
``np.convolve``, ``np.median``, ``max(axis=2)``); ``vision.foreground`` spells
the same sums in the same order with less per-call set-up. Thumbnails as the
zone analyzer makes them (float32 block means), under lighting changes, with
foreground patches and near-black blocks; float64 as the other tests pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from vision.foreground import ForegroundParams, brightness, compare, estimate_gain

P = ForegroundParams()
BINS = 48


def plain_gain(current: np.ndarray, reference: np.ndarray, params: ForegroundParams) -> float:
    cur = current.mean(axis=2).ravel()
    ref = reference.mean(axis=2).ravel()
    usable = (ref > 12.0) & (cur > 3.0)
    if np.count_nonzero(usable) < 4:
        return 1.0
    logs = np.log(cur[usable] / ref[usable])
    lo, hi = math.log(params.min_gain), math.log(params.max_gain)
    width = (hi - lo) / BINS
    idx = np.clip(((logs - lo) / width).astype(np.int64), 0, BINS - 1)
    hist = np.bincount(idx, minlength=BINS)
    smooth = np.convolve(hist, np.ones(3), mode="same")
    centre = lo + (int(np.argmax(smooth)) + 0.5) * width
    near = logs[np.abs(logs - centre) < 2 * width]
    return float(np.exp(np.median(near))) if near.size else float(np.exp(centre))


def plain_compare(current: np.ndarray, reference: np.ndarray,
                  params: ForegroundParams) -> tuple[float, float, np.ndarray]:
    gain = plain_gain(current, reference, params)
    expected = reference * gain
    diff = np.abs(current - expected).max(axis=2)
    level = np.maximum(expected.mean(axis=2), 1.0)
    mask = (diff > params.rel_threshold * level) & (diff > params.abs_threshold * min(1.0, gain))
    return float(mask.mean()), gain, mask


def pairs(seed: int, count: int, dtype: type[np.floating]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(current, reference) thumbnails: a relit reference with a patch of something else."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        ref: np.ndarray = np.round(rng.uniform(0, 255, (24, 24, 3))).astype(dtype)
        cur: np.ndarray = (ref * rng.uniform(0.2, 2.5)).astype(dtype)
        patch = rng.random((24, 24)) < rng.random()
        cur[patch] = rng.uniform(0, 255, 3)
        cur[rng.random((24, 24)) < 0.05] = 0.0  # near-black blocks carry no ratio
        out.append((cur, ref))
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compare_equals_the_plain_numpy_spelling(dtype: type[np.floating]) -> None:
    for current, reference in pairs(7, 400, dtype):
        fraction, gain, mask = plain_compare(current, reference, P)
        result = compare(current, reference, P)
        assert result.gain == gain
        assert result.fraction == fraction
        np.testing.assert_array_equal(result.mask, mask)


def test_gain_equals_plain_with_odd_and_even_counts_near_the_mode() -> None:
    # A uniform relighting puts every block in one bin: the median then takes
    # the middle of an odd or an even number of nearly equal ratios.
    rng = np.random.default_rng(11)
    for size in (24, 23):
        ref = rng.uniform(40, 220, (size, 24, 3)).astype(np.float32)
        for gain in (0.5, 0.93, 1.0, 1.7):
            cur = (ref * gain).astype(np.float32)
            assert estimate_gain(cur, ref, P) == plain_gain(cur, ref, P)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.uint8])
def test_brightness_is_the_channel_mean_bit_for_bit(dtype: type) -> None:
    thumb: np.ndarray = np.random.default_rng(5).uniform(0, 255, (24, 24, 3)).astype(dtype)
    expected = thumb.mean(axis=2)
    got = brightness(thumb)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
