"""The microphone back-ends by ``[microphone] type``, loaded on demand."""

from __future__ import annotations

from hal.mic.config import SilentMicConfig, SounddeviceMicConfig, WavMicConfig
from hal.registry import Backend

MICROPHONES = (
    Backend("wav", WavMicConfig, "hal.mic.wav:WavMicrophone"),
    Backend("silent", SilentMicConfig, "hal.mic.silent:SilentMicrophone"),
    Backend("sounddevice", SounddeviceMicConfig, "hal.mic.sounddevice_mic:SounddeviceMicrophone"),
)
