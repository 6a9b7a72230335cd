"""``[microphone]`` section: one model per back-end, chosen by ``type``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from firmware.config_base import Strict


class WavMicConfig(Strict):
    type: Literal["wav"] = Field("wav", description="Play a WAV file as the microphone.")
    path: Path = Field(..., description="16-bit PCM WAV file.")
    realtime: bool = Field(True, description="Pace to the file (False: replay).")


class SilentMicConfig(Strict):
    type: Literal["silent"] = Field("silent", description="No microphone: silent track.")
    sample_rate: int = Field(16000, ge=8000, le=48000, description="Sample rate (Hz).")


MicrophoneConfig = Annotated[WavMicConfig | SilentMicConfig, Field(discriminator="type")]
