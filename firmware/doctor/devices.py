"""Audio inputs, serial ports, and the keypad and badge devices the config names."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from firmware.doctor.host import CheckResult, Host
from hal.badge.backends import BADGES
from hal.diagnostics import check_device_path
from hal.keypad.backends import KEYPADS
from hal.registry import Backend, backend_for

__all__ = ["check_audio", "check_badge", "check_device_path", "check_keypad", "check_section",
           "check_serial_ports"]


def alsa_inputs(host: Host) -> list[str] | None:
    """Capture PCMs from /proc/asound (what `arecord -l` lists); None without ALSA."""
    cards_file, pcm_file = host.path("/proc/asound/cards"), host.path("/proc/asound/pcm")
    try:
        cards_text = cards_file.read_text()
    except OSError:
        return None
    cards = {int(m.group(1)): m.group(2).strip()
             for m in re.finditer(r"^\s*(\d+)\s+\[[^]]*\]:\s*(.*)$", cards_text, re.M)}
    try:
        pcm_text = pcm_file.read_text()
    except OSError:
        pcm_text = ""
    inputs = []
    for line in pcm_text.splitlines():
        m = re.match(r"^(\d+)-(\d+):\s*([^:]*):.*\bcapture \d+", line)
        if m:
            card, dev = int(m.group(1)), int(m.group(2))
            inputs.append(f"hw:{card},{dev} {cards.get(card, '?')}: {m.group(3).strip()}")
    return inputs


def audio_inputs(host: Host) -> tuple[list[str] | None, str]:
    """Input devices by sounddevice (PortAudio) if it loads, else by ALSA; and the source."""
    module, why = host.optional_module("sounddevice")
    if module is not None:
        devices: Sequence[Any] = module.query_devices()
        return [f"{i}: {d['name']} ({d['max_input_channels']} ch)"
                for i, d in enumerate(devices) if d.get("max_input_channels", 0) > 0], "sounddevice"
    return alsa_inputs(host), f"ALSA ({why})"


def _matches(wanted: str | int, inputs: list[str]) -> bool:
    """Does a device index or name fragment (as sounddevice takes them) pick an input?"""
    if isinstance(wanted, int):
        return any(line.startswith(f"{wanted}: ") for line in inputs)
    return any(wanted.lower() in line.lower() for line in inputs)


def check_audio(microphone: Any | None, host: Host) -> CheckResult:
    """Inputs found, compared with what [microphone] asks for."""
    name = "audio input"
    found, source = audio_inputs(host)
    kind = str(getattr(microphone, "type", "")) if microphone is not None else ""
    listing = "\n".join(found) if found else (
        "no ALSA sound card" if found is None else "no audio input device")
    listing += f"\n(via {source})"
    if kind == "wav":
        path = microphone.path  # type: ignore[union-attr]
        if not os.path.isfile(path):
            return CheckResult(name, "FAIL", f"config wants WAV microphone {path}: no such file",
                               "fix microphone.path")
        return CheckResult(name, "warn", f"WAV file {path} as the microphone\n{listing}",
                           "a WAV file is for demos; use a live microphone on a real unit")
    wanted = getattr(microphone, "device", None)
    if found and kind not in ("", "silent") and wanted is not None and not _matches(wanted, found):
        return CheckResult(name, "FAIL", f"config wants {kind} input {wanted!r}: not among\n"
                           f"{listing}", "set microphone.device to one of these (index or name)")
    if found:
        if kind == "silent":
            return CheckResult(name, "warn", f"{listing}\nconfig: silent (clips get no sound)",
                               "set [microphone] to a live input to record sound")
        return CheckResult(name, "ok", listing)
    if kind and kind != "silent":
        return CheckResult(name, "FAIL", f"config wants microphone type {kind}: {listing}",
                           "plug in the USB microphone (check `arecord -l`)")
    return CheckResult(name, "warn", listing,
                       "clips will have no sound; plug in a USB microphone (`arecord -l`)")


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
