"""``[microphone]`` section: one model per back-end, chosen by ``type``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from hal.config_base import Strict

# Rates the AAC encoder takes directly (no resampling on the unit).
SampleRate = Literal[8000, 16000, 32000, 44100, 48000]


class WavMicConfig(Strict):
    type: Literal["wav"] = Field("wav", description="Play a WAV file as the microphone.")
    path: Path = Field(..., description="16-bit PCM WAV file.")
    realtime: bool = Field(True, description="Pace to the file (False: replay).")


class SilentMicConfig(Strict):
    type: Literal["silent"] = Field("silent", description="No microphone: silent track.")
    sample_rate: int = Field(16000, ge=8000, le=48000, description="Sample rate (Hz).")


class SounddeviceMicConfig(Strict):
    type: Literal["sounddevice"] = Field(
        ..., description="A live input through PortAudio (USB microphone, ALSA, PulseAudio)."
    )
    device: str | int | None = Field(
        None,
        description="Input device: part of its name (case-insensitive), its PortAudio index, "
        "or none for the system default input.",
    )
    sample_rate: SampleRate = Field(16000, description="Sample rate asked of the device (Hz).")
    block_ms: int = Field(100, ge=10, le=500, description="Samples per callback, in ms.")
    queue_s: float = Field(
        5.0, ge=0.5, le=60, description="Audio held for a late reader; older blocks are dropped."
    )
    mix_channels: tuple[Annotated[int, Field(ge=1, le=32)], ...] = Field(
        (1,),
        min_length=1,
        max_length=8,
        description="Device channels (1-based) averaged into the mono track.",
    )
    lost_after_s: float = Field(
        3.0, ge=1, le=30, description="No audio this long means the device is lost; reopen it."
    )

    @field_validator("device")
    @classmethod
    def _device(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, str) and not 1 <= len(value) <= 128:
            raise ValueError("device name must be 1 to 128 characters")
        if isinstance(value, int) and not 0 <= value <= 255:
            raise ValueError(f"device index must be 0 to 255, got {value}")
        return value

    @field_validator("mix_channels")
    @classmethod
    def _distinct(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"mix_channels must be distinct, got {list(value)}")
        return value


MicrophoneConfig = Annotated[
    WavMicConfig | SilentMicConfig | SounddeviceMicConfig, Field(discriminator="type")
]
