"""The "camera: configured" row of ``counterunit doctor``, collected from hal: the
configured camera's own diagnosis (its ``diagnose`` in hal/camera/backends.py), given the
inventory of what is plugged in that report.py took once for the machine-wide rows
(hal/camera/inventory/rows.py).
"""

from __future__ import annotations

from typing import Any

from firmware.doctor.host import CheckResult, Host
from hal.camera.backends import CAMERAS
from hal.camera.inventory.listing import CONFIGURED, CameraInventory
from hal.camera.inventory.rows import check_any_camera
from hal.registry import backend_of_type


def check_configured_camera(camera: Any | None, inv: CameraInventory, host: Host) -> CheckResult:
    """Is the camera the config asks for there? Without a config: is any camera there?"""
    if camera is None:
        return check_any_camera(inv)
    kind = str(getattr(camera, "type", "?"))
    backend = backend_of_type(CAMERAS, kind)
    rows = backend.diagnostics(camera, host, inventory=inv) if backend is not None else []
    if rows:
        return rows[0]
    return CheckResult(CONFIGURED, "n/a",
                       f"camera.type {kind!r}: doctor has no check for it")
