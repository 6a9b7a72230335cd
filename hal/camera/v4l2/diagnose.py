"""``counterunit doctor`` rows of the V4L2 (USB) camera: the machine's /dev/video* nodes
("camera: V4L2") and whether the configured node delivers frames ("camera: configured")."""

from __future__ import annotations

import os
from typing import Any

from hal.camera.inventory.listing import CONFIGURED, CameraInventory, first_attr, take_inventory
from hal.camera.v4l2.nodes import describe
from hal.diagnostics import CheckResult, DiagnosticHost

NAME = CONFIGURED


def check_v4l2(inv: CameraInventory) -> CheckResult:
    """Every V4L2 node and what it is; warn when none delivers camera frames."""
    nodes = inv.v4l2
    if not nodes:
        return CheckResult("camera: V4L2", "warn", "no /dev/video* device",
                           "plug in a USB camera if this unit uses one (dmesg | tail)")
    lines = [describe(n) for n in nodes]
    if any(n.capture for n in nodes):
        return CheckResult("camera: V4L2", "ok", "\n".join(lines))
    return CheckResult("camera: V4L2", "warn", "\n".join(lines),
                       "none of these delivers camera frames")


def diagnose_v4l2(cfg: Any, host: DiagnosticHost, default: bool = False,
                  inventory: CameraInventory | None = None) -> list[CheckResult]:
    """The configured node: present, a capture node, reachable, under a stable name?"""
    return [_configured(first_attr(cfg, ("device", "path")),
                        inventory or take_inventory(host), host)]


def _configured(device: Any, inv: CameraInventory, host: DiagnosticHost) -> CheckResult:
    if device is None:
        return CheckResult(NAME, "n/a", "camera.type v4l2 without a device path")
    wanted = host.path(str(device))
    real = os.path.realpath(wanted)
    node = next((n for n in inv.v4l2 if os.path.realpath(host.path(n.path)) == real), None)
    if node is None:
        return CheckResult(NAME, "FAIL", f"config wants v4l2 {device}: not present "
                           f"(found {inv.summary()})",
                           "plug the camera in, or set camera.device to one found "
                           "(prefer its /dev/v4l/by-id name)")
    shown = f"v4l2 {device}" + (f" -> {node.path}" if str(device) != node.path else "")
    if not node.capture:
        return CheckResult(NAME, "FAIL", f"config wants {shown}: {node.kind}",
                           "pick the node that says capture (usually the lowest number)")
    if not host.access(wanted, os.R_OK | os.W_OK):
        return CheckResult(NAME, "FAIL", f"{shown}: not readable/writable by {host.user()}",
                           f"usermod -aG video {host.user()}")
    fix = ""
    if str(device).startswith("/dev/video") and node.links:
        fix = f"numbering can change across reboots: use {node.links[0]}"
    return CheckResult(NAME, "ok" if not fix else "warn", f'{shown} "{node.name}": capture', fix)
