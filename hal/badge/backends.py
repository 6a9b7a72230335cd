"""The badge reader back-ends by ``[badge] type``, loaded on demand."""

from __future__ import annotations

from hal.badge.config import EvdevBadgeConfig, SerialBadgeConfig
from hal.registry import Backend

BADGES = (
    Backend("serial", SerialBadgeConfig, "hal.badge.serial_badge:SerialBadgeReader",
            diagnose="hal.badge.diagnose:diagnose_serial"),
    Backend("evdev", EvdevBadgeConfig, "hal.badge.evdev_badge:EvdevBadgeReader",
            diagnose="hal.badge.diagnose:diagnose_evdev"),
)
