"""Microphone interface: PCM blocks on the same clock as the camera."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class MicrophoneError(RuntimeError):
    """The audio input cannot be opened; the message says why."""


@dataclass(frozen=True, slots=True)
class AudioBlock:
    """Mono int16 PCM samples starting at time ``t`` (seconds, capture clock)."""

    pcm: np.ndarray
    t: float
    sample_rate: int


class Microphone(Protocol):
    """A microphone back-end, chosen by ``microphone.type`` in config."""

    sample_rate: int

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def read(self, until: float) -> list[AudioBlock]:
        """Blocks captured up to ``until``. Live back-ends return what is queued;
        file back-ends produce exactly the samples before ``until`` (replay)."""
        ...
