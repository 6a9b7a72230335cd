"""``counterunit doctor`` rows of the OAK camera: the devices depthai sees
("camera: OAK (depthai)") and whether the configured one is among them."""

from __future__ import annotations

from typing import Any

from hal.camera.inventory.listing import CONFIGURED, CameraInventory, first_attr, take_inventory
from hal.diagnostics import CheckResult, DiagnosticHost

NAME = CONFIGURED
DEPTHAI_FIX = "pip install depthai (OAK cameras)"


def check_oak(inv: CameraInventory) -> CheckResult:
    """The OAK devices found, with what depthai said when it found none."""
    if inv.depthai is None:
        return CheckResult("camera: OAK (depthai)", "n/a", f"not checked: {inv.depthai_why}",
                           DEPTHAI_FIX if "not installed" in inv.depthai_why else "")
    if not inv.depthai:
        note = f"\ndepthai: {inv.depthai_note}" if inv.depthai_note else ""
        return CheckResult("camera: OAK (depthai)", "warn", f"no OAK device found{note}",
                           "check the USB3 cable and the udev rule for Movidius (03e7)")
    return CheckResult("camera: OAK (depthai)", "ok", "\n".join(inv.depthai))


def diagnose_depthai(cfg: Any, host: DiagnosticHost, default: bool = False,
                     inventory: CameraInventory | None = None) -> list[CheckResult]:
    """Is the configured OAK (its id or name; any OAK when unset) plugged in?"""
    inv = inventory or take_inventory(host)
    wanted = first_attr(cfg, ("device_id", "mxid", "device"))
    if inv.depthai is None:
        return [CheckResult(NAME, "FAIL", f"config wants an OAK: not checked: "
                            f"{inv.depthai_why}", DEPTHAI_FIX)]
    hits = [d for d in inv.depthai if wanted is None or str(wanted) in d]
    if not hits:
        want = f"OAK {wanted}" if wanted else "an OAK device"
        return [CheckResult(NAME, "FAIL", f"config wants {want}: not present "
                            f"(found {inv.summary()})", "plug the OAK into a USB3 port")]
    return [CheckResult(NAME, "ok", f"OAK {hits[0]}")]
