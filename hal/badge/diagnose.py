"""``counterunit doctor`` rows of the badge readers (hal/diagnostics.py)."""

from __future__ import annotations

import os

from hal.badge.config import EvdevBadgeConfig, SerialBadgeConfig
from hal.diagnostics import CheckResult, DiagnosticHost, check_device_path, check_serial_device

NAME = "badge reader"


def diagnose_serial(cfg: SerialBadgeConfig, host: DiagnosticHost,
                    default: bool = False) -> list[CheckResult]:
    """The reader's serial line: present, a device, read/write for this user."""
    return [check_serial_device(NAME, cfg.url, host, default)]


def diagnose_evdev(cfg: EvdevBadgeConfig, host: DiagnosticHost,
                   default: bool = False) -> list[CheckResult]:
    """The input device: readable (group input), python-evdev present, sends key events."""
    device = str(cfg.device)
    result = check_device_path(NAME, device, host, os.R_OK, "input", default)
    if result.status == "FAIL":
        return [result]
    module, why = host.optional_module("evdev")
    if module is None:
        return [CheckResult(NAME, "FAIL", f"{result.found}: not checked: {why}",
                            "pip install evdev-binary")]
    dev = module.InputDevice(str(host.path(device)))
    try:
        keys = module.ecodes.EV_KEY in dev.capabilities()
        found = f'{result.found}: evdev "{dev.name}"'
    finally:
        dev.close()
    if not keys:
        return [CheckResult(NAME, "FAIL", f"{found}: sends no key events",
                            "pick the reader's -event-kbd device in /dev/input/by-id")]
    return [CheckResult(NAME, result.status, found, result.fix)]
