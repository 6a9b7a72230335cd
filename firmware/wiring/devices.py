"""Back-ends chosen by the ``type`` keys of the config (nothing opens until start())."""

from __future__ import annotations

from collections.abc import Callable

from firmware.config.unit import EvdevBadgeConfig, UnitConfig
from firmware.wiring.camera import build_camera
from firmware.wiring.mic import build_microphone
from hal.badge.base import BadgeReader
from hal.keypad.base import Keypad

Clock = Callable[[], float]
__all__ = ["build_badge", "build_camera", "build_keypad", "build_microphone"]


def build_keypad(cfg: UnitConfig, clock: Clock) -> Keypad | None:
    if cfg.keypad is None:
        return None
    from hal.keypad.serial_keypad import SerialKeypad

    return SerialKeypad(cfg.keypad.url, clock=clock, baudrate=cfg.keypad.baudrate)


def build_badge(cfg: UnitConfig, clock: Clock) -> BadgeReader | None:
    badge = cfg.badge
    if badge is None:
        return None
    if isinstance(badge, EvdevBadgeConfig):
        from hal.badge.evdev_badge import EvdevBadgeReader

        return EvdevBadgeReader(str(badge.device), clock=clock, grab=badge.grab)
    from hal.badge.serial_badge import SerialBadgeReader

    return SerialBadgeReader(badge.url, clock=clock, baudrate=badge.baudrate)
