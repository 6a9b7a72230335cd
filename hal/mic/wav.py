"""WAV microphone: replays a 16-bit PCM WAV file as microphone blocks.

The file's sample rate is kept (no resampling, so no resampler artefacts and
no extra dependency); only rates the AAC encoder takes directly are accepted.
Stereo is mixed down to mono. Past the end of the file the microphone keeps
producing silence, so clips recorded after the talk ends still have an audio
track.
"""

from __future__ import annotations

import logging
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hal.mic.base import AudioBlock, MicrophoneError
from hal.mic.silent import block_size, block_spans, samples_before

if TYPE_CHECKING:
    from hal.mic.config import WavMicConfig

log = logging.getLogger(__name__)

SUPPORTED_RATES = (8000, 16000, 32000, 44100, 48000)


class WavMicrophone:
    """A ``Microphone`` reading a WAV file.

    With ``realtime=False`` sample times are seconds from 0 and ``read(until)``
    returns exactly the samples before ``until``. With ``realtime=True`` the
    first sample is at ``clock()`` when start() is called, and a read never
    returns samples from the future (it stops at ``min(until, clock())``), as a
    live microphone would.
    """

    @classmethod
    def from_config(cls, cfg: WavMicConfig, clock: Callable[[], float]) -> WavMicrophone:
        """From its ``[microphone]`` section; nothing opens until start()."""
        return cls(cfg.path, realtime=cfg.realtime, clock=clock)

    def __init__(
        self,
        path: str | Path,
        *,
        block_s: float = 0.1,
        realtime: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self._block_s = block_s
        self._realtime = realtime
        self._clock = clock
        self._wav: wave.Wave_read | None = None
        self._channels = 1
        self._frames_in_file = 0
        self._block_n = 1
        self._start_t = 0.0
        self._done = 0  # samples already handed out
        self._ended = False
        self.sample_rate = self._probe()

    def _probe(self) -> int:
        """Check the file now so a bad config fails at construction, not mid-replay."""
        wav = self._open()
        try:
            return wav.getframerate()
        finally:
            wav.close()

    def _open(self) -> wave.Wave_read:
        if not self.path.is_file():
            raise MicrophoneError(f"{self.path}: no such file")
        try:
            wav = wave.open(str(self.path), "rb")  # noqa: SIM115 (kept open across reads)
        except (wave.Error, EOFError) as exc:
            raise MicrophoneError(f"{self.path}: not a PCM WAV file ({exc})") from None
        except OSError as exc:
            raise MicrophoneError(f"{self.path}: cannot open ({exc.strerror or exc})") from None
        problem = _unsupported(wav)
        if problem:
            wav.close()
            raise MicrophoneError(f"{self.path}: {problem}")
        return wav

    def start(self) -> None:
        """Open the file and set the time of its first sample."""
        if self._wav is not None:
            return
        self._wav = self._open()
        self._channels = self._wav.getnchannels()
        self._frames_in_file = self._wav.getnframes()
        self._block_n = block_size(self.sample_rate, self._block_s)
        self._start_t = self._clock() if self._realtime else 0.0
        self._done = 0
        self._ended = False
        log.info(
            "wav microphone %s started: %d Hz, %d channel(s), %.1f s",
            self.path,
            self.sample_rate,
            self._channels,
            self._frames_in_file / self.sample_rate,
        )

    def stop(self) -> None:
        """Close the file; safe to call twice. Later reads return nothing."""
        if self._wav is not None:
            self._wav.close()
            self._wav = None
            log.info("wav microphone %s stopped", self.path)

    def read(self, until: float) -> list[AudioBlock]:
        """Blocks holding every sample time in [previous until, until); silence past the end."""
        if self._wav is None:
            return []
        limit = min(until, self._clock()) if self._realtime else until
        end = samples_before(limit, self._start_t, self.sample_rate)
        blocks = []
        for a, b in block_spans(self._done, end, self._block_n):
            blocks.append(
                AudioBlock(
                    pcm=self._samples(a, b),
                    t=self._start_t + a / self.sample_rate,
                    sample_rate=self.sample_rate,
                )
            )
        self._done = max(self._done, end)
        return blocks

    def _samples(self, a: int, b: int) -> np.ndarray:
        """Mono int16 samples ``[a, b)``; reads are sequential, so ``a`` is the file position."""
        assert self._wav is not None
        in_file = max(0, min(b, self._frames_in_file) - a)
        pcm = np.zeros(b - a, dtype=np.int16)
        if in_file:
            raw = self._wav.readframes(in_file)
            got = np.frombuffer(raw, dtype="<i2")
            got = got[: len(got) // self._channels * self._channels]
            mono = _to_mono(got.reshape(-1, self._channels))
            pcm[: len(mono)] = mono
        if b > self._frames_in_file and not self._ended:
            self._ended = True
            log.info("wav microphone %s reached end of file; continuing with silence", self.path)
        return pcm


def _unsupported(wav: wave.Wave_read) -> str | None:
    """Why this WAV cannot be used as-is, or None."""
    if wav.getsampwidth() != 2:
        return f"needs 16-bit PCM samples, file has {8 * wav.getsampwidth()}-bit"
    if wav.getnchannels() not in (1, 2):
        return f"needs mono or stereo, file has {wav.getnchannels()} channels"
    if wav.getframerate() not in SUPPORTED_RATES:
        rates = ", ".join(str(r) for r in SUPPORTED_RATES)
        return f"sample rate {wav.getframerate()} Hz is not one of {rates} (resample it first)"
    return None


def _to_mono(frames: np.ndarray) -> np.ndarray:
    """Average the channels of an (n, channels) int16 array into int16 mono."""
    if frames.shape[1] == 1:
        return frames[:, 0].astype(np.int16)
    return (frames.astype(np.int32).sum(axis=1) // frames.shape[1]).astype(np.int16)
