"""synth_counter_audio: deterministic WAV with talk louder than the room."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from audio.levels import rms_dbfs
from audio.synth import synth_counter_audio


def read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), "<i2"), w.getframerate()


def test_writes_exact_length_mono_16bit(tmp_path: Path) -> None:
    pcm, rate = read(synth_counter_audio(tmp_path / "a.wav", 2.5, [(0.5, 1.5)], 16000))
    assert rate == 16000
    assert len(pcm) == 40000


def test_is_deterministic_per_seed(tmp_path: Path) -> None:
    a = synth_counter_audio(tmp_path / "a.wav", 1.0, [(0.2, 0.8)], seed=7).read_bytes()
    b = synth_counter_audio(tmp_path / "b.wav", 1.0, [(0.2, 0.8)], seed=7).read_bytes()
    c = synth_counter_audio(tmp_path / "c.wav", 1.0, [(0.2, 0.8)], seed=8).read_bytes()
    assert a == b
    assert a != c


def test_talk_is_far_louder_than_the_room(tmp_path: Path) -> None:
    pcm, rate = read(synth_counter_audio(tmp_path / "a.wav", 4.0, [(1.0, 3.0)], 48000))
    quiet = rms_dbfs(pcm[: rate // 2])
    talk = rms_dbfs(pcm[int(1.5 * rate) : int(2.5 * rate)])
    after = rms_dbfs(pcm[int(3.2 * rate) :])
    assert -60 < quiet < -40
    assert -30 < talk < -10
    assert talk - quiet > 25
    assert abs(after - quiet) < 3


def test_talk_is_syllabic_not_a_steady_tone(tmp_path: Path) -> None:
    pcm, rate = read(synth_counter_audio(tmp_path / "a.wav", 3.0, [(0.0, 3.0)]))
    levels = [rms_dbfs(pcm[i : i + rate // 50]) for i in range(rate // 2, 2 * rate, rate // 50)]
    assert max(levels) - min(levels) > 15  # pauses between syllables


@pytest.mark.parametrize(
    ("duration", "intervals", "match"),
    [(0.0, [], "duration_s"), (1.0, [(0.5, 0.4)], "ends before it starts")],
)
def test_rejects_bad_arguments(
    tmp_path: Path, duration: float, intervals: list[tuple[float, float]], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        synth_counter_audio(tmp_path / "a.wav", duration, intervals)
