"""The microphone back-ends by ``[microphone] type``, loaded on demand; each diagnosis
answers doctor's "audio input" row (hal/mic/diagnose.py)."""

from __future__ import annotations

from hal.mic.config import SilentMicConfig, SounddeviceMicConfig, WavMicConfig
from hal.registry import Backend

MICROPHONES = (
    Backend("wav", WavMicConfig, "hal.mic.wav:WavMicrophone",
            diagnose="hal.mic.diagnose:diagnose_wav"),
    Backend("silent", SilentMicConfig, "hal.mic.silent:SilentMicrophone",
            diagnose="hal.mic.diagnose:diagnose_silent"),
    Backend("sounddevice", SounddeviceMicConfig, "hal.mic.sounddevice_mic:SounddeviceMicrophone",
            diagnose="hal.mic.diagnose:diagnose_sounddevice"),
)
