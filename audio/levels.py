"""Signal levels of PCM blocks (pure functions)."""

from __future__ import annotations

import math

import numpy as np

# 16-bit PCM cannot resolve anything quieter, so digital silence reads as this.
SILENCE_DBFS = -96.0
_FULL_SCALE = 32768.0


def rms_dbfs(pcm: np.ndarray, floor: float = SILENCE_DBFS) -> float:
    """RMS level of int16 samples in dB relative to full scale, never below ``floor``.

    The reference is a full-scale square wave, so a full-scale sine reads -3.01 dBFS.
    An empty block reads ``floor``.
    """
    samples = np.asarray(pcm, dtype=np.float64).reshape(-1)
    if samples.size == 0:
        return floor
    rms = math.sqrt(float(np.mean(samples * samples)))
    if rms <= 0.0:
        return floor
    return max(floor, 20.0 * math.log10(rms / _FULL_SCALE))
