"""``counterunit doctor`` rows of the serial keypad (hal/diagnostics.py)."""

from __future__ import annotations

from hal.diagnostics import CheckResult, DiagnosticHost, check_serial_device
from hal.keypad.config import KeypadConfig


def diagnose_serial(cfg: KeypadConfig, host: DiagnosticHost,
                    default: bool = False) -> list[CheckResult]:
    """The keypad's line: present, a device, read/write for this user, a stable name."""
    return [check_serial_device("keypad", cfg.url, host, default)]
