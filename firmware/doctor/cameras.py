"""Camera checks: what is plugged in (V4L2, libcamera, OAK) and whether the config's camera is.

Raspberry Pi cameras are listed through picamera2 (libcamera) and OAK devices
through depthai, each only when its module imports; the listing calls are the
vendors' static ones, which open no device.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from firmware.doctor.host import CheckResult, Host, captured_output
from firmware.doctor.v4l2 import VideoNode, describe, find_video_nodes
from hal.camera.backends import CAMERAS
from hal.registry import backend_for

log = logging.getLogger(__name__)

PICAMERA2_FIX = ("on Raspberry Pi OS: apt-get install python3-picamera2 (the venv needs "
                 "--system-site-packages to see it)")
DEPTHAI_FIX = "pip install depthai (OAK cameras)"


@dataclass(frozen=True)
class CameraInventory:
    """Cameras found; ``picamera2``/``depthai`` are None when that module is unavailable."""

    v4l2: list[VideoNode] = field(default_factory=list)
    picamera2: list[dict[str, Any]] | None = None
    picamera2_why: str = ""
    depthai: list[str] | None = None
    depthai_why: str = ""
    depthai_note: str = ""  # what depthai logged while listing (e.g. no USB access)

    @property
    def count(self) -> int:
        """Cameras that can deliver frames (V4L2 capture nodes, libcamera, OAK)."""
        return (sum(1 for n in self.v4l2 if n.capture) + len(self.picamera2 or ())
                + len(self.depthai or ()))


def list_picamera2(host: Host) -> tuple[list[dict[str, Any]] | None, str]:
    module, why = host.optional_module("picamera2")
    if module is None:
        return None, why
    return [dict(info) for info in module.Picamera2.global_camera_info()], ""


def _oak_name(info: Any) -> str:
    ident = ""
    for getter in ("getDeviceId", "getMxId"):  # depthai 3 / depthai 2
        if hasattr(info, getter):
            ident = str(getattr(info, getter)())
            break
    name = str(getattr(info, "name", "") or "")
    state = getattr(info, "state", None)
    state_text = f", {getattr(state, 'name', state)}" if state is not None else ""
    return f"{ident or name or '?'}" + (f" ({name}{state_text})" if name and ident else "")


def list_depthai(host: Host) -> tuple[list[str] | None, str]:
    module, why = host.optional_module("depthai")
    if module is None:
        return None, why
    return [_oak_name(d) for d in module.Device.getAllAvailableDevices()], ""


def _log_lines(text: str) -> str:
    """spdlog lines without their '[time] [logger] [level]' prefixes."""
    lines = [re.sub(r"^(\[[^]]*\] )+", "", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def take_inventory(host: Host) -> CameraInventory:
    """Find every camera; a vendor module that fails is reported as its reason."""
    with captured_output() as pi_log:
        pi, pi_why = _guarded(list_picamera2, host)
    with captured_output() as oak_log:
        oak, oak_why = _guarded(list_depthai, host)
    log.debug("picamera2 said: %s", pi_log)
    return CameraInventory(find_video_nodes(host), pi, pi_why, oak, oak_why,
                           _log_lines("".join(oak_log)))


def _guarded(fn: Any, host: Host) -> tuple[Any, str]:
    try:
        result: tuple[Any, str] = fn(host)
        return result
    except Exception as exc:  # a vendor listing call failing is a finding, not a crash
        return None, f"listing failed ({type(exc).__name__}: {exc})"


def check_v4l2(inv: CameraInventory) -> CheckResult:
    nodes = inv.v4l2
    if not nodes:
        return CheckResult("camera: V4L2", "warn", "no /dev/video* device",
                           "plug in a USB camera if this unit uses one (dmesg | tail)")
    lines = [describe(n) for n in nodes]
    if any(n.capture for n in nodes):
        return CheckResult("camera: V4L2", "ok", "\n".join(lines))
    return CheckResult("camera: V4L2", "warn", "\n".join(lines),
                       "none of these delivers camera frames")


def check_libcamera(inv: CameraInventory) -> CheckResult:
    if inv.picamera2 is None:
        return CheckResult("camera: libcamera (Pi)", "n/a", f"not checked: {inv.picamera2_why}",
                           PICAMERA2_FIX if "not installed" in inv.picamera2_why else "")
    if not inv.picamera2:
        return CheckResult("camera: libcamera (Pi)", "warn", "no Raspberry Pi camera found",
                           "check the ribbon cable and `rpicam-hello --list-cameras`")
    found = [f"{i}: {c.get('Model', '?')} ({c.get('Id', '')})".replace(" ()", "")
             for i, c in enumerate(inv.picamera2)]
    return CheckResult("camera: libcamera (Pi)", "ok", "\n".join(found))


def check_oak(inv: CameraInventory) -> CheckResult:
    if inv.depthai is None:
        return CheckResult("camera: OAK (depthai)", "n/a", f"not checked: {inv.depthai_why}",
                           DEPTHAI_FIX if "not installed" in inv.depthai_why else "")
    if not inv.depthai:
        note = f"\ndepthai: {inv.depthai_note}" if inv.depthai_note else ""
        return CheckResult("camera: OAK (depthai)", "warn", f"no OAK device found{note}",
                           "check the USB3 cable and the udev rule for Movidius (03e7)")
    return CheckResult("camera: OAK (depthai)", "ok", "\n".join(inv.depthai))


def _attr(obj: Any, names: Sequence[str]) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _summary(inv: CameraInventory) -> str:
    parts = [n.path for n in inv.v4l2 if n.capture]
    parts += [f"libcamera {i}" for i in range(len(inv.picamera2 or ()))]
    parts += [f"OAK {d}" for d in inv.depthai or ()]
    return ", ".join(parts) if parts else "no camera"


def check_configured_camera(camera: Any | None, inv: CameraInventory, host: Host) -> CheckResult:
    """Is the camera the config asks for there? Without a config: is any camera there?"""
    name = "camera: configured"
    if camera is None:
        if inv.count:
            return CheckResult(name, "ok", f"found {_summary(inv)}; no valid config to compare")
        return CheckResult(name, "FAIL", "no camera found (V4L2, libcamera, OAK)",
                           "connect the camera, then re-run counterunit doctor")
    if isinstance(camera, BaseModel):  # a back-end that checks itself (hal/camera/diagnose.py)
        rows = backend_for(CAMERAS, camera).diagnostics(camera, host)
        if rows:
            return rows[0]
    kind = str(getattr(camera, "type", "?"))
    if kind == "v4l2":
        return _v4l2_camera(_attr(camera, ("device", "path")), inv, host)
    if kind == "picamera2":
        index = int(_attr(camera, ("camera_index", "index", "num")) or 0)
        if inv.picamera2 is None:
            return CheckResult(name, "FAIL",
                               f"config wants picamera2 camera {index}: not checked: "
                               f"{inv.picamera2_why}", PICAMERA2_FIX)
        if index >= len(inv.picamera2):
            return CheckResult(name, "FAIL", f"config wants picamera2 camera {index}: "
                               f"{len(inv.picamera2)} found",
                               "check the ribbon cable, camera_auto_detect in config.txt")
        return CheckResult(name, "ok", f"picamera2 camera {index}: "
                           f"{inv.picamera2[index].get('Model', '?')}")
    if kind == "depthai":
        wanted = _attr(camera, ("device_id", "mxid", "device"))
        if inv.depthai is None:
            return CheckResult(name, "FAIL", f"config wants an OAK: not checked: "
                               f"{inv.depthai_why}", DEPTHAI_FIX)
        hits = [d for d in inv.depthai if wanted is None or str(wanted) in d]
        if not hits:
            want = f"OAK {wanted}" if wanted else "an OAK device"
            return CheckResult(name, "FAIL", f"config wants {want}: not present "
                               f"(found {_summary(inv)})", "plug the OAK into a USB3 port")
        return CheckResult(name, "ok", f"OAK {hits[0]}")
    return CheckResult(name, "n/a", f"camera.type {kind!r}: doctor has no check for it")


def _v4l2_camera(device: Any, inv: CameraInventory, host: Host) -> CheckResult:
    name = "camera: configured"
    if device is None:
        return CheckResult(name, "n/a", "camera.type v4l2 without a device path")
    wanted = host.path(str(device))
    real = os.path.realpath(wanted)
    node = next((n for n in inv.v4l2 if os.path.realpath(host.path(n.path)) == real), None)
    if node is None:
        return CheckResult(name, "FAIL", f"config wants v4l2 {device}: not present "
                           f"(found {_summary(inv)})",
                           "plug the camera in, or set camera.device to one found "
                           "(prefer its /dev/v4l/by-id name)")
    shown = f"v4l2 {device}" + (f" -> {node.path}" if str(device) != node.path else "")
    if not node.capture:
        return CheckResult(name, "FAIL", f"config wants {shown}: {node.kind}",
                           "pick the node that says capture (usually the lowest number)")
    if not host.access(wanted, os.R_OK | os.W_OK):
        return CheckResult(name, "FAIL", f"{shown}: not readable/writable by {host.user()}",
                           f"usermod -aG video {host.user()}")
    fix = ""
    if str(device).startswith("/dev/video") and node.links:
        fix = f"numbering can change across reboots: use {node.links[0]}"
    return CheckResult(name, "ok" if not fix else "warn", f'{shown} "{node.name}": capture', fix)
