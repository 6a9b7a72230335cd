"""Back-end diagnostics for ``counterunit doctor``: the result row and what a check may ask.

A back-end may declare a ``diagnose`` function in its registry entry (hal/*/backends.py):
``diagnose(cfg, host, default) -> list[CheckResult]``, imported only when doctor runs
it, so doctor collects every configured back-end's rows without knowing any back-end.
``host`` is doctor's view of the machine (firmware/doctor/host.py ``Host``: a fake root
in tests); ``default`` says the config is the built-in one (no valid config file), which
the rows say. A kind may hand its back-ends more by keyword: the cameras get the
``inventory`` of what is plugged in that doctor took once for the machine-wide rows
(hal/camera/inventory/listing.py). Shared checks every serial or input device needs live here
too, and ``captured_output``, which keeps vendor libraries' C-level chatter out of the
report.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Literal, Protocol

Status = Literal["ok", "warn", "FAIL", "n/a"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "FAIL", "n/a")
DEFAULT_NOTE = " (default; no valid config)"
_KERNEL_TTY = re.compile(r"^/dev/tty(USB|ACM|S|AMA)\d+$")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One row of the report: what was checked, how it went, what was found, what to do."""

    check: str
    status: Status
    found: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


class DiagnosticHost(Protocol):
    """The part of doctor's ``Host`` a back-end's diagnosis uses.

    ``path`` puts a system path (/dev, /sys, /proc, /run) under the host's root, so
    files under /proc and /sys are read as ``host.path("/proc/asound/cards")``;
    ``optional_module`` imports a vendor module or says why not; ``querycap`` is a video
    node's raw VIDIOC_QUERYCAP answer (OSError when it has none).
    """

    def path(self, path: str | Path) -> Path: ...
    def shown(self, path: Path) -> str: ...
    def access(self, path: Path, mode: int) -> bool: ...
    def user(self) -> str: ...
    def optional_module(self, name: str) -> tuple[ModuleType | None, str]: ...
    def querycap(self, path: Path) -> bytes: ...


def check_device_path(label: str, device: str, host: DiagnosticHost, mode: int, group: str,
                      default: bool = False) -> CheckResult:
    """A configured device file: present, a device, reachable by this user, a stable name?"""
    name = label
    note = DEFAULT_NOTE if default else ""
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


def check_serial_device(label: str, url: str, host: DiagnosticHost,
                        default: bool = False) -> CheckResult:
    """A serial line the unit reads and writes (group dialout on Debian)."""
    return check_device_path(label, url, host, os.R_OK | os.W_OK, "dialout", default)


@contextmanager
def captured_output() -> Iterator[list[str]]:
    """Collect what C libraries write to fd 1 and 2 meanwhile (the list gets it on exit).

    Vendor modules log from C++ straight to stdout (depthai warns at import),
    which would corrupt the table or the JSON report; their words are kept
    for the row instead.
    """
    out: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(1), os.dup(2)
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            yield out
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))
