"""WavMicrophone and SilentMicrophone: sample-exact reads on a block grid."""

from __future__ import annotations

import itertools
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from hal.mic.base import AudioBlock, MicrophoneError
from hal.mic.silent import SilentMicrophone, block_spans, samples_before
from hal.mic.wav import WavMicrophone


def write_wav(
    path: Path, frames: np.ndarray, rate: int = 16000, width: int = 2, channels: int = 1
) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames.tobytes())
    return path


def ramp(n: int) -> np.ndarray:
    """Distinct sample values, so any shift or duplicate shows."""
    return ((np.arange(n) * 7) % 60000 - 30000).astype("<i2")


@pytest.fixture
def ramp_wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "ramp.wav", ramp(16000))  # 1 s at 16 kHz


def joined(blocks: list[AudioBlock]) -> np.ndarray:
    return np.concatenate([b.pcm for b in blocks]) if blocks else np.zeros(0, np.int16)


@pytest.mark.parametrize(
    ("until", "start", "rate", "n"),
    [
        (0.0, 0.0, 16000, 0),
        (0.1, 0.0, 16000, 1600),  # sample 1600 is at exactly 0.1: not before it
        (0.10001, 0.0, 16000, 1601),
        (1 / 3, 0.0, 48000, 16000),
        (0.05, 0.1, 16000, 0),  # before the first sample
        (100.25, 100.0, 16000, 4000),
        (2.0000000001, 0.0, 16000, 32000),  # float noise is not a sample
        (1e6 + 0.1, 1e6, 48000, 4800),
    ],
)
def test_samples_before(until: float, start: float, rate: int, n: int) -> None:
    assert samples_before(until, start, rate) == n


@pytest.mark.parametrize(
    ("begin", "end", "block", "spans"),
    [
        (0, 0, 10, []),
        (0, 25, 10, [(0, 10), (10, 20), (20, 25)]),
        (25, 40, 10, [(25, 30), (30, 40)]),  # a partial block is completed first
        (30, 31, 10, [(30, 31)]),
    ],
)
def test_block_spans(begin: int, end: int, block: int, spans: list[tuple[int, int]]) -> None:
    assert block_spans(begin, end, block) == spans


READS = [0.05, 0.05, 0.13, 0.5, 0.9999, 1.0, 1.37, 2.0]


def reads(mic: WavMicrophone | SilentMicrophone) -> Iterator[tuple[float, list[AudioBlock]]]:
    for until in READS:
        yield until, mic.read(until)


def test_silent_read_is_sample_exact() -> None:
    mic = SilentMicrophone(16000)
    mic.start()
    total = 0
    for until, blocks in reads(mic):
        for b in blocks:
            assert b.t == pytest.approx(total / 16000)
            assert b.sample_rate == 16000
            assert not b.pcm.any()
            assert b.pcm.dtype == np.int16
            total += len(b.pcm)
        assert total == samples_before(until, 0.0, 16000)


def test_silent_blocks_sit_on_the_block_grid() -> None:
    mic = SilentMicrophone(16000, block_s=0.1)
    starts = [round(b.t * 16000) for until in (0.05, 0.35) for b in mic.read(until)]
    assert starts == [0, 800, 1600, 3200, 4800]


def test_silent_start_time_offsets_blocks() -> None:
    mic = SilentMicrophone(16000, start_t=500.0)
    blocks = mic.read(500.2)
    assert blocks[0].t == 500.0
    assert len(joined(blocks)) == 3200


def test_wav_read_returns_exactly_the_file_samples_before_until(ramp_wav: Path) -> None:
    mic = WavMicrophone(ramp_wav)
    mic.start()
    got: list[AudioBlock] = []
    for until, blocks in reads(mic):
        got += blocks
        assert len(joined(got)) == samples_before(until, 0.0, 16000)
    pcm = joined(got)
    assert np.array_equal(pcm[:16000], ramp(16000))
    assert not pcm[16000:].any()  # silence past the end of the file
    assert len(pcm) == 32000
    for a, b in itertools.pairwise(got):  # contiguous, no gaps or overlaps
        assert b.t == pytest.approx(a.t + len(a.pcm) / 16000)


def test_wav_blocks_are_block_sized(ramp_wav: Path) -> None:
    mic = WavMicrophone(ramp_wav, block_s=0.02)
    mic.start()
    sizes = {len(b.pcm) for b in mic.read(1.5)}
    assert sizes == {320}


def test_stereo_is_mixed_to_mono(tmp_path: Path) -> None:
    left = ramp(4800)
    right = np.full(4800, 1000, "<i2")
    stereo = np.stack([left, right], axis=1).reshape(-1)
    mic = WavMicrophone(write_wav(tmp_path / "s.wav", stereo, 48000, channels=2))
    mic.start()
    assert mic.sample_rate == 48000
    expected = ((left.astype(np.int32) + 1000) // 2).astype(np.int16)
    assert np.array_equal(joined(mic.read(0.1)), expected)


def test_realtime_never_returns_future_samples(ramp_wav: Path) -> None:
    now = [1000.0]
    mic = WavMicrophone(ramp_wav, realtime=True, clock=lambda: now[0])
    mic.start()
    now[0] = 1000.25
    blocks = mic.read(5000.0)  # asks far ahead: gets only what "was heard"
    assert blocks[0].t == 1000.0
    assert np.array_equal(joined(blocks), ramp(4000))
    assert mic.read(1000.1) == []  # already delivered


def test_read_after_stop_returns_nothing(ramp_wav: Path) -> None:
    mic = WavMicrophone(ramp_wav)
    mic.start()
    mic.stop()
    mic.stop()
    assert mic.read(1.0) == []


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.write_text("hello, not audio"), p)[1], "not a PCM WAV file"),
        (lambda p: write_wav(p, np.zeros(100, np.uint8), width=1), "16-bit"),
        (lambda p: write_wav(p, np.zeros(300, "<i2"), channels=3), "3 channels"),
        (lambda p: write_wav(p, np.zeros(100, "<i2"), rate=22050), "22050 Hz"),
    ],
)
def test_unusable_files_get_a_clear_error(
    tmp_path: Path, make: Callable[[Path], object], match: str
) -> None:
    path = tmp_path / "in.wav"
    make(path)
    with pytest.raises(MicrophoneError, match=match) as info:
        WavMicrophone(path)
    assert str(path) in str(info.value)
    assert info.value.__cause__ is None
