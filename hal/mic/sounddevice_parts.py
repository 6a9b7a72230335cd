"""Pure parts of the sounddevice microphone: device choice, channel mixing,
block timing, the bounded block queue and overflow-episode logging."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hal.mic.base import AudioBlock, MicrophoneError

log = logging.getLogger("hal.mic.sounddevice_mic")  # one logger for the whole back-end

Device = str | int | None

# Block times follow the sample count; measured times only nudge them (clock
# drift) unless they disagree by more than this, then they win (lost samples).
REANCHOR_S = 0.05
SLEW_GAIN = 0.01
# An ADC timestamp further behind the callback than this is nonsense, and
# consecutive ones must step by the block length give or take this much.
MAX_ADC_LAG_S = 2.0
ADC_STEP_TOLERANCE_S = 0.005
# Some servers (PulseAudio's null sink) take ~2 s to deliver the first block.
FIRST_BLOCK_GRACE_S = 5.0
BACKOFF_FIRST_S = 0.25
BACKOFF_MAX_S = 4.0
WATCH_POLL_S = 0.1


def input_devices(devices: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
    """(index, name) of the devices that have input channels."""
    return [(i, str(d["name"])) for i, d in enumerate(devices) if d["max_input_channels"] > 0]


def resolve_device(devices: Sequence[dict[str, Any]], wanted: Device, default: int) -> int:
    """PortAudio index of the input device asked for; MicrophoneError lists what exists.

    A name matches exactly (case-insensitive) or, failing that, as a unique substring.
    """
    inputs = input_devices(devices)
    found = "; ".join(f"{i}: {n}" for i, n in inputs) or "none"
    if wanted is None:
        if any(i == default for i, _ in inputs):
            return default
        raise MicrophoneError(f"no default input device (input devices found: {found})")
    if isinstance(wanted, int):
        if any(i == wanted for i, _ in inputs):
            return wanted
        raise MicrophoneError(
            f"input device index {wanted} not found (input devices found: {found})"
        )
    key = wanted.lower()
    exact = [i for i, n in inputs if n.lower() == key]
    if exact:
        return exact[0]
    partial = [(i, n) for i, n in inputs if key in n.lower()]
    if len(partial) == 1:
        return partial[0][0]
    if not partial:
        raise MicrophoneError(
            f"no input device matching {wanted!r} (input devices found: {found})"
        )
    names = "; ".join(f"{i}: {n}" for i, n in partial)
    raise MicrophoneError(f"input device {wanted!r} is ambiguous, matches {names}")


def mix_to_mono(frames: np.ndarray, channels: Sequence[int]) -> np.ndarray:
    """Average the 1-based ``channels`` of an (n, c) int16 array into int16 mono."""
    cols = [c - 1 for c in channels]
    if len(cols) == 1:
        return np.array(frames[:, cols[0]], dtype=np.int16)
    total = frames[:, cols].astype(np.int32).sum(axis=1)
    return np.floor_divide(total, len(cols)).astype(np.int16)


@dataclass
class BlockTimer:
    """Times consecutive blocks on the sample grid of the unit clock.

    The measured time of a block comes from PortAudio's ADC time (its lag
    behind the stream time at the callback carries over to the unit clock) for
    as long as that clock is sane: positive, less than ``MAX_ADC_LAG_S`` behind,
    and advancing with the sample count. Some host APIs (the ALSA pulse plugin)
    report zeros or times that run ahead; from the first such block on, the
    stream is timed by the callback: the block is taken to have just ended.

    Within ``REANCHOR_S`` of the prediction the block time slews gently toward
    the measurement (sound-card clock drift); beyond it, or after a known gap
    (overflow, reopen), the measured time is taken as is.
    """

    sample_rate: int
    next_t: float | None = None
    adc_trusted: bool = True
    _prev_adc: float | None = None
    _prev_frames: int = 0

    def measure(self, now: float, frames: int, adc_time: float, stream_time: float,
                gap: bool = False) -> float:
        """Unit-clock time of the first sample of a block whose callback runs at ``now``."""
        lag = stream_time - adc_time
        sane = adc_time > 0 and stream_time > 0 and 0.0 <= lag <= MAX_ADC_LAG_S
        if sane and not gap and self._prev_adc is not None:
            expected = self._prev_adc + self._prev_frames / self.sample_rate
            sane = abs(adc_time - expected) <= ADC_STEP_TOLERANCE_S
        if not sane:
            self.adc_trusted = False
        self._prev_adc, self._prev_frames = adc_time, frames
        if self.adc_trusted:
            return now - lag
        return now - frames / self.sample_rate

    def place(self, frames: int, measured: float, gap: bool = False) -> float:
        """Time of this block's first sample, given its measured time."""
        predicted = self.next_t
        if predicted is None or gap or abs(measured - predicted) > REANCHOR_S:
            t = measured
        else:
            t = predicted + SLEW_GAIN * (measured - predicted)
        self.next_t = t + frames / self.sample_rate
        return t


@dataclass(frozen=True, slots=True)
class MicStats:
    """Counters since start(): blocks queued, blocks lost and why, device losses."""

    blocks: int = 0
    input_overflows: int = 0  # PortAudio reported input overflow (samples lost upstream)
    queue_overflows: int = 0  # our queue was full: the oldest block was dropped
    losses: int = 0
    recoveries: int = 0

    @property
    def overflows(self) -> int:
        return self.input_overflows + self.queue_overflows


class BlockQueue:
    """Bounded, thread-safe FIFO of AudioBlocks; when full the oldest block goes.

    Dropping the oldest keeps the newest audio for a reader that catches up.
    The producer is the PortAudio callback, so push() only appends and counts.
    """

    def __init__(self, capacity: int) -> None:
        self._blocks: collections.deque[AudioBlock] = collections.deque()
        self._capacity = max(1, capacity)
        self._lock = threading.Lock()
        self.pushed = 0
        self.dropped = 0

    def push(self, block: AudioBlock) -> None:
        with self._lock:
            if len(self._blocks) >= self._capacity:
                self._blocks.popleft()
                self.dropped += 1
            self._blocks.append(block)
            self.pushed += 1

    def pop_until(self, until: float) -> list[AudioBlock]:
        """The queued blocks that start before ``until``, oldest first."""
        out = []
        with self._lock:
            while self._blocks and self._blocks[0].t < until:
                out.append(self._blocks.popleft())
        return out

    def clear(self) -> None:
        with self._lock:
            self._blocks.clear()


@dataclass
class EpisodeLog:
    """Logs a run of overflows once when it starts and once when it ends."""

    seen: int = 0
    episode_start: int | None = None

    def update(self, total: int, what: str) -> None:
        if total > self.seen and self.episode_start is None:
            self.episode_start = self.seen
            log.warning("%s: overflow, audio blocks are being lost", what)
        elif total == self.seen and self.episode_start is not None:
            log.info("%s: overflow over, %d block(s) lost", what, total - self.episode_start)
            self.episode_start = None
        self.seen = total
