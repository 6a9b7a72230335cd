"""Camera rows of ``counterunit doctor``, collected from hal: the machine-wide inventory
rows (hal/camera/inventory/rows.py) and the configured camera's own diagnosis (its
``diagnose`` in hal/camera/backends.py), both from one inventory of what is plugged in.
"""

from __future__ import annotations

from typing import Any

from firmware.doctor.host import CheckResult, Host
from hal.camera.backends import CAMERAS
from hal.camera.inventory.listing import CameraInventory, take_inventory
from hal.camera.inventory.rows import INVENTORY_ROWS, check_any_camera
from hal.registry import backend_of_type

__all__ = ["INVENTORY_ROWS", "CameraInventory", "check_configured_camera", "take_inventory"]


def check_configured_camera(camera: Any | None, inv: CameraInventory, host: Host) -> CheckResult:
    """Is the camera the config asks for there? Without a config: is any camera there?"""
    if camera is None:
        return check_any_camera(inv)
    kind = str(getattr(camera, "type", "?"))
    backend = backend_of_type(CAMERAS, kind)
    rows = backend.diagnostics(camera, host, inventory=inv) if backend is not None else []
    if rows:
        return rows[0]
    return CheckResult("camera: configured", "n/a",
                       f"camera.type {kind!r}: doctor has no check for it")
