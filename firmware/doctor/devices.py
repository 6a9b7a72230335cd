"""Audio inputs, serial ports, and the keypad and badge devices the config names."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from firmware.doctor.host import CheckResult, Host, Status

_KERNEL_TTY = re.compile(r"^/dev/tty(USB|ACM|S|AMA)\d+$")


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


def check_device_path(label: str, device: str, host: Host, mode: int, group: str,
                      default: bool = False) -> CheckResult:
    """A configured device file: present, a device, reachable by this user, a stable name?"""
    name = label
    note = " (default; no valid config)" if default else ""
    if "://" in device:
        status: Status = "warn" if device.startswith("loop://") else "ok"
        return CheckResult(name, status, f"pyserial URL {device}{note}: not a device file",
                           "loop:// is a test set-up" if status == "warn" else "")
    path = host.path(device)
    if not os.path.lexists(path):
        return CheckResult(name, "FAIL", f"{device}{note}: not present",
                           f"plug in the {label}; check its udev rule "
                           "(ls -l /dev/serial/by-id /dev/input/by-id)")
    if path.is_symlink():
        target = os.path.realpath(path)
        if not os.path.exists(target):
            return CheckResult(name, "FAIL",
                               f"{device}{note}: dangling link to {host.shown(Path(target))}",
                               f"re-plug the {label}; check its udev rule")
        shown = f"{device}{note} -> {host.shown(Path(target))}"
    else:
        shown = f"{device}{note}"
    st = os.stat(path)
    if not stat.S_ISCHR(st.st_mode):
        return CheckResult(name, "FAIL", f"{shown}: not a character device",
                           f"point the config at the {label}'s device")
    if not host.access(path, mode):
        need = "readable/writable" if mode & os.W_OK else "readable"
        return CheckResult(name, "FAIL", f"{shown}: not {need} by {host.user()}",
                           f"usermod -aG {group} {host.user()} (or MODE/GROUP in the udev rule)")
    if _KERNEL_TTY.match(device):
        return CheckResult(name, "warn", f"{shown}: kernel name",
                           "ttyUSB/ttyACM numbers change across reboots: use a udev symlink "
                           "such as /dev/counterunit-keypad (docs/installer.md)")
    return CheckResult(name, "ok", shown)


def check_keypad(keypad: Any | None, host: Host, default: bool = False) -> CheckResult:
    if keypad is None:
        return CheckResult("keypad", "n/a", "no [keypad] in config")
    return check_device_path("keypad", str(keypad.url), host, os.R_OK | os.W_OK, "dialout",
                             default)


def check_badge(badge: Any | None, host: Host, default: bool = False) -> CheckResult:
    if badge is None:
        return CheckResult("badge reader", "n/a", "no [badge] in config")
    if getattr(badge, "type", "serial") != "evdev":
        return check_device_path("badge reader", str(badge.url), host, os.R_OK | os.W_OK,
                                 "dialout", default)
    device = str(badge.device)
    result = check_device_path("badge reader", device, host, os.R_OK, "input", default)
    if result.status == "FAIL":
        return result
    module, why = host.optional_module("evdev")
    if module is None:
        return CheckResult("badge reader", "FAIL", f"{result.found}: not checked: {why}",
                           "pip install evdev-binary")
    dev = module.InputDevice(str(host.path(device)))
    try:
        keys = module.ecodes.EV_KEY in dev.capabilities()
        found = f'{result.found}: evdev "{dev.name}"'
    finally:
        dev.close()
    if not keys:
        return CheckResult("badge reader", "FAIL", f"{found}: sends no key events",
                           "pick the reader's -event-kbd device in /dev/input/by-id")
    return CheckResult("badge reader", result.status, found, result.fix)
