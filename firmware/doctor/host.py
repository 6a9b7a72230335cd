"""What ``counterunit doctor`` looks at, and how: the result row and the host's entry points.

Every check is a plain function taking a ``Host``; the live host reads the real
/dev, /sys, /proc and /run and imports the real vendor modules, a test host
points them at a fake root and at stand-in modules, so checks run table-first
without touching hardware or monkeypatching globals.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from hal.diagnostics import STATUSES, CheckResult, Status, captured_output

__all__ = ["STATUSES", "CheckResult", "Host", "Status", "captured_output"]


def _comports() -> Sequence[Any]:
    from serial.tools import list_ports

    return list(list_ports.comports())


def _v4l2_querycap(path: Path) -> bytes:
    from hal.camera.v4l2.caps import querycap

    return querycap(path)


def _clock_synced() -> bool:
    from firmware.system.clock import clock_synchronized

    return clock_synchronized()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Host:
    """The machine as the checks see it.

    ``root`` prefixes system paths (/dev, /sys, /proc, /run and the device
    paths named in the config); data, model and identity folders are used as
    given. ``importer`` imports optional vendor modules (picamera2, depthai,
    sounddevice, evdev); ``querycap`` returns the raw VIDIOC_QUERYCAP buffer of
    a video node or raises OSError.
    """

    root: Path = Path("/")
    importer: Callable[[str], ModuleType] = importlib.import_module
    querycap: Callable[[Path], bytes] = _v4l2_querycap
    comports: Callable[[], Sequence[Any]] = _comports
    access: Callable[[Path, int], bool] = field(default=lambda p, mode: os.access(p, mode))
    disk_free: Callable[[Path], int] = field(default=lambda p: shutil.disk_usage(p).free)
    clock_synced: Callable[[], bool] = _clock_synced
    now: Callable[[], dt.datetime] = _now
    user: Callable[[], str] = field(default=lambda: _user_name())

    def path(self, path: str | Path) -> Path:
        """A system path under this host's root (the path itself on the live host)."""
        p = Path(path)
        return self.root / p.relative_to("/") if p.is_absolute() else self.root / p

    def shown(self, path: Path) -> str:
        """A path under the root as the installer would type it (root stripped)."""
        try:
            return "/" + str(path.relative_to(self.root)).removeprefix(".")
        except ValueError:
            return str(path)

    def optional_module(self, name: str) -> tuple[ModuleType | None, str]:
        """The module, or None and why not (not installed / fails to load)."""
        try:
            return self.importer(name), ""
        except ModuleNotFoundError:
            return None, f"{name} not installed"
        except Exception as exc:  # a vendor module may fail on a missing C library
            return None, f"{name} fails to load ({type(exc).__name__}: {exc})"


def _user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())
