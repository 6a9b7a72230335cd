"""Back-ends chosen by the ``type`` keys of the config (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config.unit import UnitConfig
from firmware.wiring.camera import build_camera
from firmware.wiring.mic import build_microphone
from hal.badge.backends import BADGES
from hal.badge.base import BadgeReader
from hal.keypad.backends import KEYPADS
from hal.keypad.base import Keypad
from hal.registry import open_backend

Clock = Callable[[], float]
__all__ = ["build_badge", "build_camera", "build_keypad", "build_microphone"]


def build_keypad(cfg: UnitConfig, clock: Clock) -> Keypad | None:
    """The keypad ``[keypad]`` names, or None without one."""
    if cfg.keypad is None:
        return None
    keypad: Keypad = open_backend(KEYPADS, cfg.keypad, clock)
    return keypad


def build_badge(cfg: UnitConfig, clock: Clock) -> BadgeReader | None:
    """The badge reader ``[badge] type`` names, or None without one."""
    if cfg.badge is None:
        return None
    badge: BadgeReader = open_backend(BADGES, cfg.badge, clock)
    return badge
