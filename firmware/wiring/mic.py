"""The microphone back-end chosen by ``microphone.type`` (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config.unit import UnitConfig
from hal.mic.backends import MICROPHONES
from hal.mic.base import Microphone
from hal.registry import open_backend

Clock = Callable[[], float]


def build_microphone(cfg: UnitConfig, clock: Clock) -> Microphone:
    mic: Microphone = open_backend(MICROPHONES, cfg.microphone, clock)
    return mic
