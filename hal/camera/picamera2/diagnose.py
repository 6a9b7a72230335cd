"""``counterunit doctor`` rows of the Raspberry Pi camera: what libcamera lists
("camera: libcamera (Pi)") and whether the configured camera index is there."""

from __future__ import annotations

from typing import Any

from hal.camera.inventory.listing import CONFIGURED, CameraInventory, first_attr, take_inventory
from hal.diagnostics import CheckResult, DiagnosticHost

NAME = CONFIGURED
PICAMERA2_FIX = ("on Raspberry Pi OS: apt-get install python3-picamera2 (the venv needs "
                 "--system-site-packages to see it)")


def check_libcamera(inv: CameraInventory) -> CheckResult:
    """The Pi cameras libcamera lists; n/a without picamera2."""
    if inv.picamera2 is None:
        return CheckResult("camera: libcamera (Pi)", "n/a", f"not checked: {inv.picamera2_why}",
                           PICAMERA2_FIX if "not installed" in inv.picamera2_why else "")
    if not inv.picamera2:
        return CheckResult("camera: libcamera (Pi)", "warn", "no Raspberry Pi camera found",
                           "check the ribbon cable and `rpicam-hello --list-cameras`")
    found = [f"{i}: {c.get('Model', '?')} ({c.get('Id', '')})".replace(" ()", "")
             for i, c in enumerate(inv.picamera2)]
    return CheckResult("camera: libcamera (Pi)", "ok", "\n".join(found))


def diagnose_picamera2(cfg: Any, host: DiagnosticHost, default: bool = False,
                       inventory: CameraInventory | None = None) -> list[CheckResult]:
    """Is the configured camera index among the cameras libcamera lists?"""
    inv = inventory or take_inventory(host)
    index = int(first_attr(cfg, ("camera_index", "index", "num")) or 0)
    if inv.picamera2 is None:
        return [CheckResult(NAME, "FAIL", f"config wants picamera2 camera {index}: not checked: "
                            f"{inv.picamera2_why}", PICAMERA2_FIX)]
    if index >= len(inv.picamera2):
        return [CheckResult(NAME, "FAIL", f"config wants picamera2 camera {index}: "
                            f"{len(inv.picamera2)} found",
                            "check the ribbon cable, camera_auto_detect in config.txt")]
    return [CheckResult(NAME, "ok", f"picamera2 camera {index}: "
                        f"{inv.picamera2[index].get('Model', '?')}")]
