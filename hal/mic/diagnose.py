"""``counterunit doctor``'s "audio input" row, worded by each microphone back-end
(declared in hal/mic/backends.py), over the inputs the machine has (hal/mic/inventory.py).
"""

from __future__ import annotations

import os
from typing import Any

from hal.diagnostics import CheckResult, DiagnosticHost
from hal.mic.inventory import audio_listing, matches

NAME = "audio input"
NO_SOUND_FIX = "clips will have no sound; plug in a USB microphone (`arecord -l`)"


def no_microphone(host: DiagnosticHost) -> CheckResult:
    """No [microphone] (or no valid config): the inputs there are, a warning if none."""
    found, listing = audio_listing(host)
    if found:
        return CheckResult(NAME, "ok", listing)
    return CheckResult(NAME, "warn", listing, NO_SOUND_FIX)


def live_input(kind: str, wanted: str | int | None, host: DiagnosticHost) -> CheckResult:
    """A live input of back-end ``kind``: is the device it names (or any) among the inputs?"""
    found, listing = audio_listing(host)
    if found and wanted is not None and not matches(wanted, found):
        return CheckResult(NAME, "FAIL", f"config wants {kind} input {wanted!r}: not among\n"
                           f"{listing}", "set microphone.device to one of these (index or name)")
    if found:
        return CheckResult(NAME, "ok", listing)
    return CheckResult(NAME, "FAIL", f"config wants microphone type {kind}: {listing}",
                       "plug in the USB microphone (check `arecord -l`)")


def diagnose_unlisted(microphone: Any, host: DiagnosticHost) -> CheckResult:
    """A section whose type no back-end diagnoses: read as a live input of that type."""
    kind = str(getattr(microphone, "type", "") or "")
    if not kind:
        return no_microphone(host)
    return live_input(kind, getattr(microphone, "device", None), host)


def diagnose_sounddevice(cfg: Any, host: DiagnosticHost,
                         default: bool = False) -> list[CheckResult]:
    """The PortAudio input: ``device`` (index or name part) among the inputs found."""
    return [live_input("sounddevice", getattr(cfg, "device", None), host)]


def diagnose_silent(cfg: Any, host: DiagnosticHost, default: bool = False) -> list[CheckResult]:
    """No microphone on purpose: a warning that clips get no sound, with what is there."""
    found, listing = audio_listing(host)
    if found:
        return [CheckResult(NAME, "warn", f"{listing}\nconfig: silent (clips get no sound)",
                            "set [microphone] to a live input to record sound")]
    return [CheckResult(NAME, "warn", listing, NO_SOUND_FIX)]


def diagnose_wav(cfg: Any, host: DiagnosticHost, default: bool = False) -> list[CheckResult]:
    """A WAV file as the microphone: the file is there; a reminder it is for demos."""
    path = cfg.path
    if not os.path.isfile(path):
        return [CheckResult(NAME, "FAIL", f"config wants WAV microphone {path}: no such file",
                            "fix microphone.path")]
    _, listing = audio_listing(host)
    return [CheckResult(NAME, "warn", f"WAV file {path} as the microphone\n{listing}",
                        "a WAV file is for demos; use a live microphone on a real unit")]
