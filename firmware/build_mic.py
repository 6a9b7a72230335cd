"""The microphone back-end chosen by ``microphone.type`` (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config import SilentMicConfig, UnitConfig, WavMicConfig
from firmware.config_mic import SounddeviceMicConfig
from hal.mic.base import Microphone

Clock = Callable[[], float]


def build_microphone(cfg: UnitConfig, clock: Clock) -> Microphone:
    mic = cfg.microphone
    if isinstance(mic, WavMicConfig):
        from hal.mic.wav import WavMicrophone

        return WavMicrophone(mic.path, realtime=mic.realtime, clock=clock)
    if isinstance(mic, SilentMicConfig):
        from hal.mic.silent import SilentMicrophone

        # Live, the unit clock is monotonic time: silence starts now, not at 0.
        return SilentMicrophone(sample_rate=mic.sample_rate, start_t=clock())
    if isinstance(mic, SounddeviceMicConfig):
        from hal.mic.sounddevice_mic import SounddeviceMicrophone

        return SounddeviceMicrophone(
            mic.device, sample_rate=mic.sample_rate, block_s=mic.block_ms / 1000,
            queue_s=mic.queue_s, mix_channels=mic.mix_channels,
            lost_after_s=mic.lost_after_s, clock=clock,
        )
    raise ValueError(f"microphone.type {mic.type!r} has no back-end")  # pragma: no cover
