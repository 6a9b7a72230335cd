"""The machine-wide camera rows of ``counterunit doctor``, in report order, from one
inventory (hal/camera/inventory/listing.py); each back-end words its own row beside its
diagnosis. Without a valid config, "camera: configured" says whether any camera is there.
"""

from __future__ import annotations

from collections.abc import Callable

from hal.camera.depthai.diagnose import check_oak
from hal.camera.inventory.listing import CONFIGURED, CameraInventory
from hal.camera.picamera2.diagnose import check_libcamera
from hal.camera.v4l2.diagnose import check_v4l2
from hal.diagnostics import CheckResult

__all__ = ["INVENTORY_ROWS", "check_any_camera", "check_libcamera", "check_oak", "check_v4l2"]

INVENTORY_ROWS: tuple[tuple[str, Callable[[CameraInventory], CheckResult]], ...] = (
    ("camera: V4L2", check_v4l2),
    ("camera: libcamera (Pi)", check_libcamera),
    ("camera: OAK (depthai)", check_oak),
)


def check_any_camera(inv: CameraInventory) -> CheckResult:
    """"camera: configured" without a config: is any camera there at all?"""
    if inv.count:
        return CheckResult(CONFIGURED, "ok", f"found {inv.summary()}; no valid config to compare")
    return CheckResult(CONFIGURED, "FAIL", "no camera found (V4L2, libcamera, OAK)",
                       "connect the camera, then re-run counterunit doctor")
