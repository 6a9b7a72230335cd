"""rms_dbfs: levels of known signals."""

from __future__ import annotations

import numpy as np
import pytest

from audio.levels import SILENCE_DBFS, rms_dbfs

_T = np.arange(16000) / 16000


def sine(amplitude: float) -> np.ndarray:
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * 1000 * _T)).astype(np.int16)


@pytest.mark.parametrize(
    ("pcm", "expected"),
    [
        (np.full(100, 32767, np.int16), 0.0),  # full-scale DC / square
        (np.tile(np.array([32767, -32768], np.int16), 50), 0.0),
        (sine(1.0), -3.01),
        (sine(0.5), -9.03),
        (sine(0.01), -43.01),
        (np.zeros(1600, np.int16), SILENCE_DBFS),
        (np.zeros(0, np.int16), SILENCE_DBFS),
        (np.ones(1600, np.int16), -90.31),  # 1 LSB: just above the floor
    ],
)
def test_rms_dbfs(pcm: np.ndarray, expected: float) -> None:
    assert rms_dbfs(pcm) == pytest.approx(expected, abs=0.02)


def test_floor_is_configurable() -> None:
    assert rms_dbfs(np.zeros(10, np.int16), floor=-120.0) == -120.0
