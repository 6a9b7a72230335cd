"""``counterunit doctor`` row of the file camera (declared in hal/camera/backends.py).

Live cameras (v4l2, picamera2, depthai) compare their config with the inventory of what
is plugged in (hal/camera/inventory/listing.py); the file camera needs only its file.
"""

from __future__ import annotations

import os

from hal.camera.config import FileCameraConfig
from hal.camera.inventory.listing import CONFIGURED, CameraInventory
from hal.diagnostics import CheckResult, DiagnosticHost

NAME = CONFIGURED


def diagnose_file(cfg: FileCameraConfig, host: DiagnosticHost, default: bool = False,
                  inventory: CameraInventory | None = None) -> list[CheckResult]:
    """The video file: there, readable; and a reminder that it is not a live camera."""
    path = cfg.path
    if not os.path.isfile(path):
        return [CheckResult(NAME, "FAIL", f"config wants file camera {path}: no such file",
                            "fix camera.path")]
    if not host.access(path, os.R_OK):
        return [CheckResult(NAME, "FAIL", f"file camera {path}: not readable by {host.user()}",
                            "fix the file's permissions")]
    return [CheckResult(NAME, "warn", f"file camera {path}: a video file, not a live camera",
                        "set [camera] type to v4l2, picamera2 or depthai on a real unit")]
