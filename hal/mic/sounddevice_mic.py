"""Live microphone through PortAudio (python-sounddevice).

A PortAudio callback copies each block, mixed to mono int16, into a bounded
queue with its time on the unit clock; ``read(until)`` takes the blocks that
start before ``until``. The callback never logs or blocks: it only counts.
A watcher thread logs overflow episodes and device loss once each, and reopens
a lost device with back-off while the unit loop keeps reading (nothing).

``sounddevice`` is imported in start(), never at module import: importing it
initialises PortAudio, which scans the sound hardware.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from hal.mic.base import AudioBlock, MicrophoneError
from hal.mic.sounddevice_parts import (
    BACKOFF_FIRST_S,
    BACKOFF_MAX_S,
    FIRST_BLOCK_GRACE_S,
    WATCH_POLL_S,
    BlockQueue,
    BlockTimer,
    Device,
    EpisodeLog,
    MicStats,
    mix_to_mono,
    resolve_device,
)

if TYPE_CHECKING:
    from hal.mic.config import SounddeviceMicConfig

log = logging.getLogger(__name__)

def _import_sounddevice() -> ModuleType:
    try:
        import sounddevice
    except ImportError:
        raise MicrophoneError("python package sounddevice is not installed") from None
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        raise MicrophoneError(f"sounddevice: {exc} (install libportaudio2)") from None
    return sounddevice


def _default_input(sd: ModuleType) -> int:
    try:
        return int(sd.query_devices(kind="input")["index"])
    except sd.PortAudioError:  # PortAudio has no default input (-1)
        return -1


class SounddeviceMicrophone:
    """A ``Microphone`` on a live PortAudio input device.

    ``device`` is a name substring, a PortAudio index or None (default input).
    Block times are on ``clock`` (the unit clock). start() raises MicrophoneError
    naming the device asked for and the input devices found; a device lost later
    is reopened in the background, and read() returns nothing meanwhile.
    """

    @classmethod
    def from_config(cls, cfg: SounddeviceMicConfig,
                    clock: Callable[[], float]) -> SounddeviceMicrophone:
        """From its ``[microphone]`` section; nothing opens until start()."""
        return cls(
            cfg.device, sample_rate=cfg.sample_rate, block_s=cfg.block_ms / 1000,
            queue_s=cfg.queue_s, mix_channels=cfg.mix_channels,
            lost_after_s=cfg.lost_after_s, clock=clock,
        )

    def __init__(self, device: Device = None, *, sample_rate: int = 16000,
                 block_s: float = 0.1, queue_s: float = 5.0,
                 mix_channels: Sequence[int] = (1,), lost_after_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if sample_rate <= 0 or block_s <= 0 or queue_s <= 0 or not mix_channels:
            raise ValueError("sample_rate, block_s, queue_s must be > 0, mix_channels non-empty")
        self.device = device
        self.sample_rate = sample_rate
        self._block_n = max(1, round(sample_rate * block_s))
        self._mix = tuple(mix_channels)
        self._lost_after_s = lost_after_s
        self._clock = clock
        self._queue = BlockQueue(round(queue_s / block_s))
        self._timer = BlockTimer(sample_rate)
        self._sd: ModuleType | None = None
        self._stream: Any = None
        self._lock = threading.Lock()  # guards _stream between watcher and stop()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._finished = threading.Event()  # PortAudio ended the stream by itself
        self._last_block_at = 0.0
        self._got_block = False
        self._gap = False
        self._input_overflows = 0
        self._losses = 0
        self._recoveries = 0

    # ---- Microphone ---------------------------------------------------------------------

    def start(self) -> None:
        """Open the device and start capturing; MicrophoneError if it cannot."""
        if self._watcher is not None:
            return
        self._sd = _import_sounddevice()
        self._stop.clear()
        with self._lock:
            self._open()
        log.info("sounddevice microphone %s started: %d Hz, blocks of %d samples",
                 self._describe(), self.sample_rate, self._block_n)
        self._watcher = threading.Thread(target=self._watch, name="mic-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """Stop capturing and close the device; safe to call twice."""
        if self._watcher is None:
            return
        self._stop.set()
        self._watcher.join()
        self._watcher = None
        with self._lock:
            self._close()
        log.info("sounddevice microphone %s stopped (%s)", self._describe(), self.stats)

    def read(self, until: float) -> list[AudioBlock]:
        """Queued blocks that start before ``until`` (whole blocks, oldest first)."""
        return self._queue.pop_until(until)

    @property
    def stats(self) -> MicStats:
        return MicStats(self._queue.pushed, self._input_overflows, self._queue.dropped,
                        self._losses, self._recoveries)

    # ---- PortAudio ----------------------------------------------------------------------

    def _describe(self) -> str:
        return "(default input)" if self.device is None else repr(self.device)

    def _open(self) -> None:
        """Resolve and open the device (caller holds _lock); MicrophoneError on failure."""
        sd = self._sd
        assert sd is not None
        try:
            devices = list(sd.query_devices())
        except sd.PortAudioError as exc:
            raise MicrophoneError(f"cannot list audio devices: {exc}") from None
        index = resolve_device(devices, self.device, _default_input(sd))
        info = devices[index]
        channels = max(self._mix)
        if channels > info["max_input_channels"]:
            raise MicrophoneError(
                f"input device {index} ({info['name']}) has {info['max_input_channels']} "
                f"channel(s); mix_channels asks for channel {channels}"
            )
        self._finished.clear()
        try:
            stream = sd.InputStream(
                device=index, channels=channels, samplerate=self.sample_rate, dtype="int16",
                blocksize=self._block_n, callback=self._on_block,
                finished_callback=self._finished.set,
            )
            stream.start()
        except sd.PortAudioError as exc:
            raise MicrophoneError(
                f"cannot open input device {index} ({info['name']}) at {self.sample_rate} Hz, "
                f"{channels} channel(s): {exc} "
                f"(device default rate {info['default_samplerate']:.0f} Hz)"
            ) from None
        self._stream = stream
        self._last_block_at = self._clock()
        self._got_block = False
        self._timer = BlockTimer(self.sample_rate)  # a new stream has a new ADC clock
        self._gap = True

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        assert self._sd is not None
        try:
            stream.abort()
            stream.close()
        except self._sd.PortAudioError as exc:  # a vanished device may fail to close
            log.debug("closing input stream: %s", exc)

    def _on_block(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio callback: stamp, mix and queue the block; count overflows. Never logs."""
        now = self._clock()
        gap = self._gap
        if status.input_overflow:
            self._input_overflows += 1
            gap = True
        self._gap = False
        measured = self._timer.measure(now, frames, time_info.inputBufferAdcTime,
                                       time_info.currentTime, gap)
        t = self._timer.place(frames, measured, gap)
        self._queue.push(AudioBlock(mix_to_mono(indata, self._mix), t, self.sample_rate))
        self._last_block_at = now
        self._got_block = True

    # ---- watcher ------------------------------------------------------------------------

    def _watch(self) -> None:
        """Log overflow episodes; notice a lost device and reopen it with back-off."""
        overflows = EpisodeLog()
        what = f"sounddevice microphone {self._describe()}"
        backoff = BACKOFF_FIRST_S
        retry_at = 0.0
        lost_since: float | None = None
        adc_logged = False
        while not self._stop.wait(WATCH_POLL_S):
            overflows.update(self.stats.overflows, what)
            if not self._timer.adc_trusted and not adc_logged:
                adc_logged = True
                log.info("%s: device timestamps unusable; timing blocks by their arrival", what)
            now = self._clock()
            with self._lock:
                if self._stop.is_set():
                    return
                if lost_since is None:
                    reason = self._lost_reason(now)
                    if reason is None:
                        continue
                    self._losses += 1
                    log.warning("%s lost (%s); reopening with back-off", what, reason)
                    self._close()
                    lost_since, backoff, retry_at = now, BACKOFF_FIRST_S, now
                if now < retry_at:
                    continue
                try:
                    self._refresh_devices()
                    self._open()
                except MicrophoneError as exc:
                    log.debug("%s: reopen failed: %s", what, exc)
                    retry_at = now + backoff
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                    continue
                self._recoveries += 1
                log.warning("%s recovered after %.1f s", what, now - lost_since)
                lost_since = None

    def _lost_reason(self, now: float) -> str | None:
        if self._finished.is_set():
            return "the stream ended"
        limit = self._lost_after_s
        if not self._got_block:
            limit = max(limit, FIRST_BLOCK_GRACE_S)
        if now - self._last_block_at > limit:
            return f"no audio for {now - self._last_block_at:.1f} s"
        return None

    def _refresh_devices(self) -> None:
        """Re-scan devices: PortAudio fixes its list at initialisation (a replugged
        USB microphone gets a new entry), and re-initialising is the only refresh
        (python-sounddevice issue #125). It would also end other streams in this
        process; the unit has no others.
        """
        sd = self._sd
        assert sd is not None
        try:
            if sd._initialized:  # a failed earlier attempt may have left it terminated
                sd._terminate()
            sd._initialize()
        except sd.PortAudioError as exc:
            raise MicrophoneError(f"cannot re-initialise PortAudio: {exc}") from None
