"""Audio inputs, serial ports, and the keypad and badge devices the config names.

The audio, keypad and badge rows are the back-ends' own (hal/*/backends.py ``diagnose``);
this module only picks the configured back-end and collects its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from firmware.doctor.host import CheckResult, Host
from hal.badge.backends import BADGES
from hal.diagnostics import check_device_path
from hal.keypad.backends import KEYPADS
from hal.mic.backends import MICROPHONES
from hal.mic.diagnose import diagnose_unlisted, no_microphone
from hal.registry import Backend, backend_for, backend_of_type

__all__ = ["check_audio", "check_badge", "check_device_path", "check_keypad", "check_section",
           "check_serial_ports"]


def check_audio(microphone: Any | None, host: Host) -> CheckResult:
    """Inputs found, compared with what [microphone] asks for (the back-end's diagnosis)."""
    if microphone is None:
        return no_microphone(host)
    backend = backend_of_type(MICROPHONES, str(getattr(microphone, "type", "")))
    rows = backend.diagnostics(microphone, host) if backend is not None else []
    return rows[0] if rows else diagnose_unlisted(microphone, host)


def check_serial_ports(host: Host) -> CheckResult:
    ports = list(host.comports())
    if not ports:
        return CheckResult("serial ports", "warn", "no serial port",
                           "plug in the keypad and badge reader (dmesg | tail)")
    lines = []
    for p in sorted(ports, key=lambda p: str(p.device)):
        desc = getattr(p, "description", "") or ""
        serial = getattr(p, "serial_number", None)
        extra = f" [{desc}]" if desc and desc != "n/a" else ""
        lines.append(f"{p.device}{extra}" + (f" serial {serial}" if serial else ""))
    return CheckResult("serial ports", "ok", "\n".join(lines))


def check_section(name: str, section: str, backends: Sequence[Backend], cfg: BaseModel | None,
                  host: Host, default: bool = False) -> list[CheckResult]:
    """The rows of a config section's back-end: its own diagnosis (hal/*/diagnose.py,
    declared in its registry entry), or n/a when the section is absent."""
    if cfg is None:
        return [CheckResult(name, "n/a", f"no [{section}] in config")]
    return backend_for(backends, cfg).diagnostics(cfg, host, default)


def check_keypad(keypad: Any | None, host: Host, default: bool = False) -> CheckResult:
    rows = check_section("keypad", "keypad", KEYPADS, keypad, host, default)
    return rows[0] if rows else CheckResult("keypad", "n/a", "no diagnosis for this keypad")


def check_badge(badge: Any | None, host: Host, default: bool = False) -> CheckResult:
    rows = check_section("badge reader", "badge", BADGES, badge, host, default)
    return rows[0] if rows else CheckResult("badge reader", "n/a", "no diagnosis for this reader")
