"""What audio inputs the machine has: PortAudio's through sounddevice when it loads,
else ALSA's capture devices from /proc/asound (what `arecord -l` lists)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hal.diagnostics import DiagnosticHost


def alsa_inputs(host: DiagnosticHost) -> list[str] | None:
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


def audio_inputs(host: DiagnosticHost) -> tuple[list[str] | None, str]:
    """Input devices by sounddevice (PortAudio) if it loads, else by ALSA; and the source."""
    module, why = host.optional_module("sounddevice")
    if module is not None:
        devices: Sequence[Any] = module.query_devices()
        return [f"{i}: {d['name']} ({d['max_input_channels']} ch)"
                for i, d in enumerate(devices) if d.get("max_input_channels", 0) > 0], "sounddevice"
    return alsa_inputs(host), f"ALSA ({why})"


def audio_listing(host: DiagnosticHost) -> tuple[list[str] | None, str]:
    """The inputs found and the text of the "audio input" row listing them (with the source)."""
    found, source = audio_inputs(host)
    listing = "\n".join(found) if found else (
        "no ALSA sound card" if found is None else "no audio input device")
    return found, f"{listing}\n(via {source})"


def matches(wanted: str | int, inputs: list[str]) -> bool:
    """Does a device index or name fragment (as sounddevice takes them) pick an input?"""
    if isinstance(wanted, int):
        return any(line.startswith(f"{wanted}: ") for line in inputs)
    return any(wanted.lower() in line.lower() for line in inputs)
