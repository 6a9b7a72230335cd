"""``counterunit doctor`` rows of the queue-machine feeds (hal/diagnostics.py)."""

from __future__ import annotations

from hal.diagnostics import CheckResult, DiagnosticHost, check_serial_device
from hal.queue.config import SerialQueueConfig


def diagnose_serial(cfg: SerialQueueConfig, host: DiagnosticHost,
                    default: bool = False) -> list[CheckResult]:
    """The queue machine's serial line: present, a device, read/write for this user."""
    return [check_serial_device("queue feed", cfg.url, host, default)]
