"""Synthetic counter audio for demos and tests: room noise plus speech-like talk.

"Speech-like" means what matters to level meters and encoders: a voiced
harmonic spectrum with a wandering pitch, loudness modulated at syllable rate
(~4 Hz) with short pauses. It is deterministic for a given seed.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_NOISE_RMS = 0.003  # about -50 dBFS: a quiet service hall
_TALK_PEAK = 0.25  # about -15 dBFS RMS while talking
_FADE_S = 0.05


def synth_counter_audio(
    path: str | Path,
    duration_s: float,
    talk_intervals: Sequence[tuple[float, float]],
    sample_rate: int = 16000,
    *,
    seed: int = 0,
) -> Path:
    """Write a 16-bit mono WAV of ``duration_s`` seconds; talk during ``talk_intervals``.

    Intervals are (start_s, end_s) pairs in seconds, clipped to the file.
    Returns the path written.
    """
    if duration_s <= 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    for start, end in talk_intervals:
        if end <= start:
            raise ValueError(f"talk interval ({start}, {end}) ends before it starts")
    rng = np.random.default_rng(seed)
    n = round(duration_s * sample_rate)
    t = np.arange(n) / sample_rate
    signal = rng.normal(0.0, _NOISE_RMS, n)
    for start, end in talk_intervals:
        a = max(0, round(start * sample_rate))
        b = min(n, round(end * sample_rate))
        if b > a:
            signal[a:b] += _talk(t[a:b] - t[a], sample_rate, rng)
    pcm = np.clip(np.round(signal * 32767.0), -32768, 32767).astype("<i2")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return out


def _talk(t: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One stretch of voiced, syllable-modulated sound starting at t=0."""
    f0 = rng.uniform(110.0, 220.0)
    # Pitch wanders slowly, as intonation does.
    pitch = f0 * (1.0 + 0.08 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + rng.uniform(0, 6)))
    phase = 2 * np.pi * np.cumsum(pitch) / sample_rate
    voiced = np.zeros_like(t)
    for k in range(1, 9):  # harmonics falling off like a glottal source
        if k * f0 * 1.1 < sample_rate / 2:
            voiced += np.sin(k * phase) / k
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3.5, 5.0) * t), 0.0, None) ** 0.7
    envelope = syllables * np.clip(np.minimum(t, t[-1] - t) / _FADE_S, 0.0, 1.0)
    return _TALK_PEAK * envelope * voiced / np.max(np.abs(voiced) + 1e-9)
