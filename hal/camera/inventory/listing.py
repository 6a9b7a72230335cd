"""What cameras are plugged in: V4L2 nodes, libcamera (Pi) cameras, OAK devices.

Raspberry Pi cameras are listed through picamera2 (libcamera) and OAK devices
through depthai, each only when its module imports; the listing calls are the
vendors' static ones, which open no device. doctor takes this inventory once and
hands it to the machine-wide rows (hal/camera/inventory/rows.py) and to the configured
camera's own diagnosis (``inventory=`` keyword, hal/diagnostics.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hal.camera.v4l2.nodes import VideoNode, find_video_nodes
from hal.diagnostics import DiagnosticHost, captured_output

log = logging.getLogger(__name__)

# The row each camera back-end's diagnosis answers (and doctor orders its report by).
CONFIGURED = "camera: configured"


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

    def summary(self) -> str:
        """One line naming every camera found ("no camera" when none)."""
        parts = [n.path for n in self.v4l2 if n.capture]
        parts += [f"libcamera {i}" for i in range(len(self.picamera2 or ()))]
        parts += [f"OAK {d}" for d in self.depthai or ()]
        return ", ".join(parts) if parts else "no camera"


def list_picamera2(host: DiagnosticHost) -> tuple[list[dict[str, Any]] | None, str]:
    """libcamera's cameras as picamera2 describes them; None and why without picamera2."""
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


def list_depthai(host: DiagnosticHost) -> tuple[list[str] | None, str]:
    """The OAK devices depthai sees (id, name, state); None and why without depthai."""
    module, why = host.optional_module("depthai")
    if module is None:
        return None, why
    return [_oak_name(d) for d in module.Device.getAllAvailableDevices()], ""


def _log_lines(text: str) -> str:
    """spdlog lines without their '[time] [logger] [level]' prefixes."""
    lines = [re.sub(r"^(\[[^]]*\] )+", "", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def take_inventory(host: DiagnosticHost) -> CameraInventory:
    """Find every camera; a vendor module that fails is reported as its reason."""
    with captured_output() as pi_log:
        pi, pi_why = _guarded(list_picamera2, host)
    with captured_output() as oak_log:
        oak, oak_why = _guarded(list_depthai, host)
    log.debug("picamera2 said: %s", pi_log)
    return CameraInventory(find_video_nodes(host), pi, pi_why, oak, oak_why,
                           _log_lines("".join(oak_log)))


def _guarded(fn: Callable[[DiagnosticHost], tuple[Any, str]],
             host: DiagnosticHost) -> tuple[Any, str]:
    try:
        return fn(host)
    except Exception as exc:  # a vendor listing call failing is a finding, not a crash
        return None, f"listing failed ({type(exc).__name__}: {exc})"


def first_attr(obj: Any, names: tuple[str, ...]) -> Any:
    """The first of ``names`` that ``obj`` has (not None): the config field a row reads."""
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None
