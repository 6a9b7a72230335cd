"""The camera and microphone rows of doctor come from the hal back-ends' registry entries.

The real doctor (``doctor --json``) on real config files and a fake root: a /dev/video0
with its sysfs name and a /dev/v4l/by-id link, the VIDIOC_QUERYCAP answer from a
stand-in returning the packed struct, and stand-ins for picamera2, depthai and
sounddevice with the real listing calls' shapes. Each back-end's "camera: configured"
or "audio input" row is its own ``diagnose`` (hal/*/backends.py): without that entry
doctor has no check for it and the row here changes.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from firmware.doctor.host import Host
from firmware.doctor.report import doctor
from hal.camera.backends import CAMERAS
from hal.camera.inventory.listing import take_inventory
from hal.camera.v4l2.caps import CAP_VIDEO_CAPTURE
from hal.mic.backends import MICROPHONES
from hal.registry import backend_for

LINK = "/dev/v4l/by-id/usb-HD_Webcam-video-index0"
IMX708 = {"Model": "imx708", "Id": "/base/soc/i2c0mux/i2c@1/imx708@1a"}
SPEAKER = {"name": "HDMI 0", "max_input_channels": 0}
MIC = {"name": "USB PnP Sound Device: Audio (hw:1,0)", "max_input_channels": 1}


class DeviceInfo:
    """depthai's DeviceInfo, as far as the listing reads it."""

    name = "1.3"
    state = SimpleNamespace(name="X_LINK_UNBOOTED")

    def getDeviceId(self) -> str:
        return "14442C10D13EABCE00"


def standins() -> dict[str, Any]:
    picamera2 = SimpleNamespace(Picamera2=SimpleNamespace(
        global_camera_info=lambda: [IMX708]))
    depthai = SimpleNamespace(Device=SimpleNamespace(
        getAllAvailableDevices=lambda: [DeviceInfo()]))
    sounddevice = SimpleNamespace(query_devices=lambda: [SPEAKER, MIC])
    return {"picamera2": picamera2, "depthai": depthai, "sounddevice": sounddevice}


def host_for(tmp_path: Path) -> Host:
    root = tmp_path / "root"
    (root / "dev/v4l/by-id").mkdir(parents=True)
    (root / "dev/video0").touch()
    (root / "dev/v4l/by-id/usb-HD_Webcam-video-index0").symlink_to("../../video0")
    (root / "sys/class/video4linux/video0").mkdir(parents=True)
    (root / "sys/class/video4linux/video0/name").write_text("HD Webcam\n")
    modules = standins()

    def load(name: str) -> ModuleType:
        if name not in modules:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        module: ModuleType = modules[name]
        return module

    def querycap(path: Path) -> bytes:
        return struct.pack("<16s32s32sIII12x", b"uvcvideo", b"HD Webcam", b"usb-1", 0x60100,
                           CAP_VIDEO_CAPTURE, 0)

    return Host(root=root, importer=load, querycap=querycap)


def rows_of(tmp_path: Path, sections: str) -> list[dict[str, str]]:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "day.mp4").write_bytes(b"x")
    (tmp_path / "hall.wav").write_bytes(b"RIFF")
    config = tmp_path / "unit.toml"
    config.write_text(f'[unit]\ndata_dir = "{tmp_path / "data"}"\n' + sections)
    out = io.StringIO()
    doctor(config, as_json=True, out=out, host=host_for(tmp_path))
    checks: list[dict[str, str]] = json.loads(out.getvalue())["checks"]
    return checks


def row(rows: list[dict[str, str]], name: str) -> dict[str, str]:
    (only,) = [r for r in rows if r["check"] == name]  # exactly one row of that name
    return only


@pytest.mark.parametrize("camera,status,found", [
    (f'type = "v4l2"\ndevice = "{LINK}"', "ok", f'v4l2 {LINK} -> /dev/video0 "HD Webcam": capture'),
    ('type = "v4l2"\ndevice = "/dev/video0"', "warn", 'v4l2 /dev/video0 "HD Webcam": capture'),
    ('type = "v4l2"\ndevice = "/dev/video4"', "FAIL",
     "config wants v4l2 /dev/video4: not present (found /dev/video0, libcamera 0, "
     "OAK 14442C10D13EABCE00 (1.3, X_LINK_UNBOOTED))"),
    ('type = "picamera2"', "ok", "picamera2 camera 0: imx708"),
    ('type = "picamera2"\ncamera_index = 1', "FAIL", "config wants picamera2 camera 1: 1 found"),
    ('type = "depthai"', "ok", "OAK 14442C10D13EABCE00 (1.3, X_LINK_UNBOOTED)"),
    ('type = "depthai"\ndevice_id = "1844301"', "FAIL",
     "config wants OAK 1844301: not present (found /dev/video0, libcamera 0, "
     "OAK 14442C10D13EABCE00 (1.3, X_LINK_UNBOOTED))"),
    ('type = "file"\npath = "@DAY@"', "warn", "file camera @DAY@: a video file, not a live camera"),
])
def test_configured_camera_row_is_the_back_ends_own(tmp_path: Path, camera: str, status: str,
                                                    found: str) -> None:
    camera = camera.replace("@DAY@", str(tmp_path / "day.mp4"))
    rows = rows_of(tmp_path, f"[camera]\n{camera}\n")
    got = row(rows, "camera: configured")
    assert (got["status"], got["found"]) == (status, found.replace(
        "@DAY@", str(tmp_path / "day.mp4")))
    # The same row, straight from the registry entry of the configured camera type.
    host = host_for(tmp_path / "again")
    cfg = _camera_cfg(tmp_path / "unit.toml")
    own = backend_for(CAMERAS, cfg).diagnostics(cfg, host, inventory=take_inventory(host))
    assert [(r.check, r.status, r.found) for r in own] == [
        ("camera: configured", got["status"], got["found"])]


def _camera_cfg(path: Path) -> Any:
    from firmware.config.unit import load_config

    return load_config(path).camera


def test_inventory_rows_come_before_the_configured_camera(tmp_path: Path) -> None:
    rows = rows_of(tmp_path, f'[camera]\ntype = "v4l2"\ndevice = "{LINK}"\n')
    names = [r["check"] for r in rows]
    assert names[1:5] == ["camera: V4L2", "camera: libcamera (Pi)", "camera: OAK (depthai)",
                          "camera: configured"]
    assert row(rows, "camera: V4L2")["found"] == '/dev/video0 "HD Webcam": capture'
    assert row(rows, "camera: libcamera (Pi)")["found"] == (
        "0: imx708 (/base/soc/i2c0mux/i2c@1/imx708@1a)")
    assert row(rows, "camera: OAK (depthai)")["found"] == (
        "14442C10D13EABCE00 (1.3, X_LINK_UNBOOTED)")


LISTING = "1: USB PnP Sound Device: Audio (hw:1,0) (1 ch)\n(via sounddevice)"


@pytest.mark.parametrize("microphone,status,found", [
    ('type = "sounddevice"\ndevice = "USB PnP"', "ok", LISTING),
    ('type = "sounddevice"\ndevice = 0', "FAIL",
     f"config wants sounddevice input 0: not among\n{LISTING}"),
    ('type = "silent"', "warn", f"{LISTING}\nconfig: silent (clips get no sound)"),
    ('type = "wav"\npath = "@WAV@"', "warn", f"WAV file @WAV@ as the microphone\n{LISTING}"),
    ('type = "wav"\npath = "@NOWAV@"', "FAIL",
     "config wants WAV microphone @NOWAV@: no such file"),
])
def test_audio_row_is_the_microphone_back_ends_own(tmp_path: Path, microphone: str,
                                                   status: str, found: str) -> None:
    paths = {"@NOWAV@": str(tmp_path / "none.wav"), "@WAV@": str(tmp_path / "hall.wav")}
    for key, value in paths.items():
        microphone, found = microphone.replace(key, value), found.replace(key, value)
    rows = rows_of(tmp_path, f'[camera]\ntype = "file"\npath = "{tmp_path / "day.mp4"}"\n'
                   f"[microphone]\n{microphone}\n")
    assert {k: row(rows, "audio input")[k] for k in ("status", "found")} == {
        "status": status, "found": found}


@pytest.mark.parametrize("registry", [CAMERAS, MICROPHONES], ids=["camera", "microphone"])
def test_every_camera_and_microphone_declares_its_diagnosis(registry: Any) -> None:
    assert [b.type_key for b in registry if not b.diagnose] == []
