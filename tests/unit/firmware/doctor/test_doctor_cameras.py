"""Camera rows of doctor: libcamera / OAK listings through stand-in vendor modules, and the
config's camera compared with what was found.

The picamera2 and depthai stand-ins expose the same static listing calls with the
same shapes as the real modules (Picamera2.global_camera_info() -> list of dicts;
Device.getAllAvailableDevices() -> DeviceInfo with getDeviceId(), name, state).
The v4l2/picamera2/depthai camera configs are stand-in namespaces with the
``type`` and device fields the doctor reads.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from firmware.config.unit import FileCameraConfig
from firmware.doctor.cameras import check_configured_camera
from firmware.doctor.host import Host
from hal.camera.inventory.listing import CameraInventory, take_inventory
from hal.camera.inventory.rows import check_libcamera, check_oak, check_v4l2
from hal.camera.v4l2.nodes import VideoNode


def importer(modules: dict[str, Any]) -> Any:
    def load(name: str) -> ModuleType:
        if name not in modules:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        value = modules[name]
        if isinstance(value, Exception):
            raise value
        return value
    return load


def picamera2_standin(cameras: list[dict[str, Any]]) -> Any:
    class Picamera2:
        @staticmethod
        def global_camera_info() -> list[dict[str, Any]]:
            return cameras
    return SimpleNamespace(Picamera2=Picamera2)


class DeviceInfo:
    def __init__(self, device_id: str, name: str) -> None:
        self._id, self.name = device_id, name
        self.state = SimpleNamespace(name="X_LINK_UNBOOTED")

    def getDeviceId(self) -> str:
        return self._id


def depthai_standin(devices: list[DeviceInfo]) -> Any:
    class Device:
        @staticmethod
        def getAllAvailableDevices() -> list[DeviceInfo]:
            return devices
    return SimpleNamespace(Device=Device)


IMX708 = {"Model": "imx708", "Location": 2, "Rotation": 180, "Num": 0,
          "Id": "/base/soc/i2c0mux/i2c@1/imx708@1a"}
OAK = DeviceInfo("14442C10D13EABCE00", "1.3")


def test_inventory_through_standins(tmp_path: Path) -> None:
    host = Host(root=tmp_path, importer=importer({
        "picamera2": picamera2_standin([IMX708]), "depthai": depthai_standin([OAK])}))
    inv = take_inventory(host)
    assert inv.v4l2 == [] and inv.picamera2 == [IMX708]
    assert inv.depthai == ["14442C10D13EABCE00 (1.3, X_LINK_UNBOOTED)"]
    assert inv.count == 2
    assert check_libcamera(inv).status == "ok" and "imx708" in check_libcamera(inv).found
    assert check_oak(inv).status == "ok" and "14442C10D13EABCE00" in check_oak(inv).found


@pytest.mark.parametrize("modules,pi_status,pi_text,oak_status,oak_text", [
    ({}, "n/a", "not checked: picamera2 not installed",
     "n/a", "not checked: depthai not installed"),
    ({"picamera2": picamera2_standin([]), "depthai": depthai_standin([])},
     "warn", "no Raspberry Pi camera", "warn", "no OAK device"),
    ({"picamera2": OSError("libcamera.so.0.3: cannot open shared object file")},
     "n/a", "picamera2 fails to load (OSError: libcamera.so", "n/a", "depthai not installed"),
])
def test_vendor_rows(tmp_path: Path, modules: dict[str, Any], pi_status: str, pi_text: str,
                     oak_status: str, oak_text: str) -> None:
    inv = take_inventory(Host(root=tmp_path, importer=importer(modules)))
    pi, oak = check_libcamera(inv), check_oak(inv)
    assert (pi.status, oak.status) == (pi_status, oak_status)
    assert pi_text in pi.found and oak_text in oak.found


def test_a_listing_call_that_raises_is_a_finding(tmp_path: Path) -> None:
    class Device:
        @staticmethod
        def getAllAvailableDevices() -> list[DeviceInfo]:
            raise RuntimeError("XLink init failed")

    inv = take_inventory(Host(root=tmp_path, importer=importer(
        {"depthai": SimpleNamespace(Device=Device)})))
    assert inv.depthai is None and "XLink init failed" in inv.depthai_why
    assert check_oak(inv).status == "n/a"


CAM0 = VideoNode("/dev/video0", "HD Webcam", True, "capture",
                 ("/dev/v4l/by-id/usb-HD_Webcam-video-index0",))
META1 = VideoNode("/dev/video1", "HD Webcam", False, "metadata node, not the image")


def v4l2_root(tmp_path: Path) -> Path:
    (tmp_path / "dev/v4l/by-id").mkdir(parents=True)
    for name in ("video0", "video1"):
        (tmp_path / "dev" / name).touch()
    (tmp_path / "dev/v4l/by-id/usb-HD_Webcam-video-index0").symlink_to("../../video0")
    return tmp_path


def v4l2(device: str) -> Any:
    return SimpleNamespace(type="v4l2", device=device)


@pytest.mark.parametrize("camera,inv,status,words", [
    (None, CameraInventory(), "FAIL", "no camera found"),
    (None, CameraInventory([CAM0]), "ok", "found /dev/video0; no valid config"),
    (v4l2("/dev/video0"), CameraInventory([]), "FAIL",
     "config wants v4l2 /dev/video0: not present (found no camera)"),
    (v4l2("/dev/video1"), CameraInventory([CAM0, META1]), "FAIL", "metadata node"),
    (v4l2("/dev/video0"), CameraInventory([CAM0, META1]), "warn", '"HD Webcam": capture'),
    (v4l2("/dev/v4l/by-id/usb-HD_Webcam-video-index0"), CameraInventory([CAM0]), "ok",
     "-> /dev/video0"),
    (SimpleNamespace(type="picamera2", camera_index=0),
     CameraInventory(picamera2_why="picamera2 not installed"), "FAIL",
     "config wants picamera2 camera 0: not checked: picamera2 not installed"),
    (SimpleNamespace(type="picamera2", camera_index=1), CameraInventory(picamera2=[IMX708]),
     "FAIL", "picamera2 camera 1: 1 found"),
    (SimpleNamespace(type="picamera2"), CameraInventory(picamera2=[IMX708]), "ok", "imx708"),
    (SimpleNamespace(type="depthai", device_id=None), CameraInventory(depthai=[]), "FAIL",
     "config wants an OAK device: not present"),
    (SimpleNamespace(type="depthai", device_id="14442C"), CameraInventory(depthai=["1844"]),
     "FAIL", "OAK 14442C: not present"),
    (SimpleNamespace(type="depthai", device_id="14442C"),
     CameraInventory(depthai=["14442C10D13EABCE00 (1.3)"]), "ok", "OAK 14442C10D13EABCE00"),
    (SimpleNamespace(type="gige"), CameraInventory(), "n/a", "no check for it"),
])
def test_configured_camera(tmp_path: Path, camera: Any, inv: CameraInventory, status: str,
                           words: str) -> None:
    row = check_configured_camera(camera, inv, Host(root=v4l2_root(tmp_path)))
    assert row.status == status, row
    assert words in row.found, row
    assert row.check == "camera: configured"
    if status != "ok":
        assert row.fix or status == "n/a"


def test_configured_kernel_name_warns_towards_the_stable_link(tmp_path: Path) -> None:
    row = check_configured_camera(v4l2("/dev/video0"), CameraInventory([CAM0]),
                                  Host(root=v4l2_root(tmp_path)))
    assert row.status == "warn" and "/dev/v4l/by-id/usb-HD_Webcam-video-index0" in row.fix


def test_configured_v4l2_without_permission(tmp_path: Path) -> None:
    host = Host(root=v4l2_root(tmp_path), access=lambda p, mode: False, user=lambda: "counter")
    row = check_configured_camera(v4l2("/dev/video0"), CameraInventory([CAM0]), host)
    assert row.status == "FAIL" and "not readable/writable by counter" in row.found
    assert row.fix == "usermod -aG video counter"


def test_file_camera(tmp_path: Path) -> None:
    video = tmp_path / "day.mp4"
    cam = FileCameraConfig.model_validate({"path": video})
    missing = check_configured_camera(cam, CameraInventory(), Host(root=tmp_path))
    assert missing.status == "FAIL" and "no such file" in missing.found
    video.write_bytes(b"x")
    there = check_configured_camera(cam, CameraInventory(), Host(root=tmp_path))
    assert there.status == "warn" and "not a live camera" in there.found


@pytest.mark.parametrize("nodes,status", [
    ([], "warn"), ([META1], "warn"), ([CAM0, META1], "ok")])
def test_v4l2_row(nodes: list[VideoNode], status: str) -> None:
    row = check_v4l2(CameraInventory(nodes))
    assert row.status == status
    for n in nodes:
        assert n.path in row.found
