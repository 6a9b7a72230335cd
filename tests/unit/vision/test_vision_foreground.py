"""Foreground against the empty reference: lighting gain removed, learning rules."""

from __future__ import annotations

import numpy as np
import pytest

from vision.foreground import (
    EmptyReference,
    ForegroundParams,
    compare,
    estimate_gain,
    thumbnail,
)

P = ForegroundParams()


def textured(seed: int = 1, shape: tuple[int, int] = (24, 24)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(60, 220, (*shape, 3)).astype(np.float32)


def with_patch(base: np.ndarray, rows: slice, cols: slice, seed: int = 9) -> np.ndarray:
    out = base.copy()
    rng = np.random.default_rng(seed)
    patch = out[rows, cols]
    # A "person": colours unrelated to the wall behind, never close to it.
    out[rows, cols] = np.where(patch > 128, patch - 100, patch + 100) + rng.uniform(
        -5, 5, patch.shape
    )
    return out


@pytest.mark.parametrize("gain", [1.0, 0.8, 0.5, 0.4, 1.3])
def test_lighting_change_alone_is_not_foreground(gain: float) -> None:
    ref = textured()
    result = compare(ref * gain, ref, P)
    assert result.fraction == 0.0
    assert result.gain == pytest.approx(gain, rel=0.03)


@pytest.mark.parametrize("gain", [1.0, 0.5])
@pytest.mark.parametrize(("rows", "cols", "share"), [
    (slice(0, 24), slice(0, 6), 0.25),
    (slice(4, 24), slice(3, 21), 20 * 18 / 576),  # a person filling most of the zone
])
def test_object_is_foreground_in_any_light(gain: float, rows: slice, cols: slice,
                                           share: float) -> None:
    ref = textured()
    current = with_patch(ref, rows, cols) * gain
    result = compare(current, ref, P)
    assert result.fraction == pytest.approx(share, abs=0.03)
    assert result.gain == pytest.approx(gain, rel=0.05)


def test_gain_is_found_when_most_blocks_are_foreground() -> None:
    ref = textured()
    current = with_patch(ref, slice(0, 24), slice(0, 17)) * 0.5  # 70% covered
    assert estimate_gain(current, ref, P) == pytest.approx(0.5, rel=0.05)


def test_plain_difference_without_compensation_would_flag_a_dip() -> None:
    # Guards the test above: a 50% dip differs by far more than the thresholds.
    ref = textured()
    assert (np.abs(ref * 0.5 - ref).max(axis=2) > P.abs_threshold).mean() > 0.9


def test_black_frame_does_not_divide_by_zero() -> None:
    ref = textured()
    result = compare(np.zeros_like(ref), ref, P)
    assert np.isfinite(result.gain) and 0.0 <= result.fraction <= 1.0


def test_thumbnail_is_block_means() -> None:
    crop = np.zeros((48, 48, 3), np.uint8)
    crop[:24] = 200
    thumb = thumbnail(crop, (2, 2))
    np.testing.assert_allclose(thumb[:, :, 0], [[200, 200], [0, 0]])


def test_reference_needs_stable_empty_frames_to_start() -> None:
    ref = EmptyReference(ForegroundParams(init_frames=3))
    view = textured()
    ref.learn(view, None, 0.2, person=False, stable=True)
    ref.learn(view, None, 0.2, person=False, stable=False)  # motion restarts the count
    ref.learn(view, None, 0.2, person=False, stable=True)
    ref.learn(view, None, 0.2, person=False, stable=True)
    assert not ref.learned
    ref.learn(view, None, 0.2, person=False, stable=True)
    assert ref.learned


def learned(view: np.ndarray) -> EmptyReference:
    ref = EmptyReference(ForegroundParams(init_frames=1))
    ref.learn(view, None, 0.2, person=False, stable=True)
    return ref


def test_a_still_person_is_never_absorbed() -> None:
    empty = textured()
    ref = learned(empty)
    seated = with_patch(empty, slice(4, 24), slice(3, 21))
    for _ in range(5 * 600):  # ten minutes at 5 fps, perfectly still
        ref.learn(seated, ref.compare(seated), 0.2, person=True, stable=True)
    result = ref.compare(seated)
    assert result is not None and result.fraction > 0.5


def test_object_left_behind_is_absorbed_slowly() -> None:
    empty = textured()
    params = ForegroundParams(init_frames=1, absorb_tau_s=20.0)
    ref = EmptyReference(params)
    ref.learn(empty, None, 0.2, person=False, stable=True)
    with_box = with_patch(empty, slice(14, 24), slice(6, 18))

    def after(seconds: float) -> float:
        for _ in range(int(seconds / 0.2)):
            ref.learn(with_box, ref.compare(with_box), 0.2, person=False, stable=True)
        result = ref.compare(with_box)
        assert result is not None
        return result.fraction

    assert after(5.0) > 0.15  # still foreground after 5 s
    assert after(60.0) < 0.02  # part of the counter after a minute


def test_lighting_dip_is_not_learned_into_the_reference() -> None:
    empty = textured()
    ref = learned(empty)
    dark = empty * 0.5
    for _ in range(50):
        ref.learn(dark, ref.compare(dark), 0.2, person=False, stable=True)
    assert ref.reference is not None
    np.testing.assert_allclose(ref.reference, empty, rtol=0.02)
    assert ref.compare(empty).fraction == 0.0  # type: ignore[union-attr]


def test_forget_drops_the_reference() -> None:
    ref = learned(textured())
    ref.forget()
    assert not ref.learned and ref.compare(textured()) is None
