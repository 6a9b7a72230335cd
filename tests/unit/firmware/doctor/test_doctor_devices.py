"""Audio, serial-port, keypad and badge rows of doctor, on fake roots.

Device files are real where they can be: the keypad and badge "devices" are
real ptys (character devices) linked from the fake /dev the way udev links
/dev/counterunit-keypad. sounddevice, pyserial's port listing and python-evdev
are stand-ins with the real call shapes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, ClassVar

import pytest

from firmware.config.unit import (
    EvdevBadgeConfig,
    KeypadConfig,
    SerialBadgeConfig,
    SilentMicConfig,
    WavMicConfig,
)
from firmware.doctor.devices import (
    check_audio,
    check_badge,
    check_device_path,
    check_keypad,
    check_serial_ports,
)
from firmware.doctor.host import Host
from hal.mic.inventory import alsa_inputs

CARDS = """\
 0 [PCH            ]: HDA-Intel - HDA Intel PCH
                      HDA Intel PCH at 0xf7f10000 irq 33
 1 [Device         ]: USB-Audio - USB PnP Sound Device
                      C-Media Electronics Inc. USB PnP Sound Device at usb-0000:00:14.0-2
"""
PCM = """\
00-00: ALC3246 Analog : ALC3246 Analog : playback 1 : capture 1
00-03: HDMI 0 : HDMI 0 : playback 1
01-00: USB Audio : USB Audio : playback 1 : capture 1
"""


def importer(modules: dict[str, Any]) -> Any:
    def load(name: str) -> ModuleType:
        if name not in modules:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return modules[name]
    return load


def proc_root(tmp_path: Path, cards: str | None = CARDS, pcm: str = PCM) -> Path:
    if cards is not None:
        (tmp_path / "proc/asound").mkdir(parents=True)
        (tmp_path / "proc/asound/cards").write_text(cards)
        (tmp_path / "proc/asound/pcm").write_text(pcm)
    return tmp_path


def test_alsa_inputs_from_proc(tmp_path: Path) -> None:
    assert alsa_inputs(Host(root=proc_root(tmp_path))) == [
        "hw:0,0 HDA-Intel - HDA Intel PCH: ALC3246 Analog",
        "hw:1,0 USB-Audio - USB PnP Sound Device: USB Audio",
    ]


def test_no_alsa_at_all(tmp_path: Path) -> None:
    assert alsa_inputs(Host(root=tmp_path)) is None


def sounddevice(devices: list[dict[str, Any]]) -> Any:
    return SimpleNamespace(query_devices=lambda: devices)


MIC = {"name": "USB PnP Sound Device: Audio (hw:1,0)", "max_input_channels": 1}
SPEAKER = {"name": "HDMI 0", "max_input_channels": 0}


@pytest.mark.parametrize("modules,cards,mic,status,words", [
    ({"sounddevice": sounddevice([SPEAKER, MIC])}, None, None, "ok",
     "1: USB PnP Sound Device: Audio (hw:1,0) (1 ch)\n(via sounddevice)"),
    ({}, CARDS, None, "ok", "hw:1,0 USB-Audio"),
    ({}, CARDS, SilentMicConfig.model_validate({}), "warn", "config: silent"),
    ({}, None, None, "warn", "no ALSA sound card\n(via ALSA (sounddevice not installed))"),
    ({"sounddevice": sounddevice([SPEAKER])}, None, SilentMicConfig.model_validate({}), "warn",
     "no audio input device"),
    ({}, None, SimpleNamespace(type="alsa", device="hw:1,0"), "FAIL",
     "config wants microphone type alsa"),
    ({"sounddevice": sounddevice([SPEAKER, MIC])}, None,
     SimpleNamespace(type="sounddevice", device="USB PnP"), "ok", "USB PnP Sound Device"),
    ({"sounddevice": sounddevice([SPEAKER, MIC])}, None,
     SimpleNamespace(type="sounddevice", device=1), "ok", "1: USB PnP"),
    ({"sounddevice": sounddevice([SPEAKER, MIC])}, None,
     SimpleNamespace(type="sounddevice", device=0), "FAIL", "config wants sounddevice input 0"),
    ({"sounddevice": sounddevice([SPEAKER, MIC])}, None,
     SimpleNamespace(type="sounddevice", device="ReSpeaker"), "FAIL",
     "input 'ReSpeaker': not among"),
])
def test_audio(tmp_path: Path, modules: dict[str, Any], cards: str | None, mic: Any,
               status: str, words: str) -> None:
    row = check_audio(mic, Host(root=proc_root(tmp_path, cards), importer=importer(modules)))
    assert row.status == status, row
    assert words in row.found, row


def test_audio_wav_microphone(tmp_path: Path) -> None:
    wav = tmp_path / "hall.wav"
    mic = WavMicConfig.model_validate({"path": wav})
    assert check_audio(mic, Host(root=tmp_path)).status == "FAIL"
    wav.write_bytes(b"RIFF")
    row = check_audio(mic, Host(root=tmp_path))
    assert row.status == "warn" and "for demos" in row.fix


def port(device: str, description: str, serial: str | None = None) -> Any:
    return SimpleNamespace(device=device, description=description, serial_number=serial)


@pytest.mark.parametrize("ports,status,found", [
    ([], "warn", "no serial port"),
    ([port("/dev/ttyUSB0", "FT232R USB UART", "A50285BI"), port("/dev/ttyS0", "n/a")], "ok",
     "/dev/ttyS0\n/dev/ttyUSB0 [FT232R USB UART] serial A50285BI"),
])
def test_serial_ports(ports: list[Any], status: str, found: str) -> None:
    row = check_serial_ports(Host(comports=lambda: ports))
    assert (row.status, row.found) == (status, found)


@pytest.fixture
def pty_root(tmp_path: Path) -> Iterator[Path]:
    """A fake root whose /dev holds udev-style links to a real pty (a character device)."""
    controller, peer = os.openpty()
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "ttyACM0").symlink_to(os.ttyname(peer))  # stands for the kernel node
    (dev / "counterunit-keypad").symlink_to("ttyACM0")
    (dev / "counterunit-badge").symlink_to("ttyUSB9")  # dangling: reader unplugged
    (dev / "notadevice").write_text("")
    try:
        yield tmp_path
    finally:
        os.close(controller)
        os.close(peer)


@pytest.mark.parametrize("device,status,words", [
    ("/dev/counterunit-keypad", "ok", "/dev/counterunit-keypad -> /dev/pts/"),
    ("/dev/ttyACM0", "warn", "kernel name"),
    ("/dev/counterunit-badge", "FAIL", "dangling link to"),
    ("/dev/missing", "FAIL", "/dev/missing: not present"),
    ("/dev/notadevice", "FAIL", "not a character device"),
    ("loop://", "warn", "pyserial URL loop://"),
    ("socket://10.0.0.5:7000", "ok", "not a device file"),
])
def test_device_path(pty_root: Path, device: str, status: str, words: str) -> None:
    row = check_device_path("keypad", device, Host(root=pty_root), os.R_OK | os.W_OK, "dialout")
    assert row.status == status, row
    assert words in row.found, row


def test_device_path_permission(pty_root: Path) -> None:
    host = Host(root=pty_root, access=lambda p, mode: False, user=lambda: "counter")
    row = check_keypad(KeypadConfig.model_validate({"url": "/dev/counterunit-keypad"}), host)
    assert row.status == "FAIL" and "not readable/writable by counter" in row.found
    assert "usermod -aG dialout counter" in row.fix


def test_defaults_are_labelled(pty_root: Path) -> None:
    row = check_badge(SerialBadgeConfig.model_validate({}), Host(root=pty_root), default=True)
    assert "(default; no valid config)" in row.found


def test_no_keypad_or_badge_configured() -> None:
    assert check_keypad(None, Host()).status == "n/a"
    assert check_badge(None, Host()).status == "n/a"


class InputDevice:
    """python-evdev's InputDevice, as far as doctor uses it."""

    opened: ClassVar[list[str]] = []

    def __init__(self, path: str, keys: bool = True) -> None:
        InputDevice.opened.append(path)
        self.name = "HID c216:0180"
        self._keys = keys
        self.closed = False

    def capabilities(self) -> dict[int, list[int]]:
        return {1: [2, 3, 4]} if self._keys else {3: [0, 1]}

    def close(self) -> None:
        self.closed = True


def evdev_standin(keys: bool = True) -> Any:
    return SimpleNamespace(InputDevice=lambda path: InputDevice(path, keys),
                           ecodes=SimpleNamespace(EV_KEY=1))


@pytest.mark.parametrize("modules,status,words", [
    ({"evdev": evdev_standin()}, "ok", 'evdev "HID c216:0180"'),
    ({"evdev": evdev_standin(keys=False)}, "FAIL", "sends no key events"),
    ({}, "FAIL", "not checked: evdev not installed"),
])
def test_evdev_badge(pty_root: Path, modules: dict[str, Any], status: str, words: str) -> None:
    InputDevice.opened.clear()
    cfg = EvdevBadgeConfig.model_validate(
        {"type": "evdev", "device": "/dev/counterunit-keypad"})
    row = check_badge(cfg, Host(root=pty_root, importer=importer(modules)))
    assert row.status == status, row
    assert words in row.found
    if modules:
        assert InputDevice.opened == [str(pty_root / "dev/counterunit-keypad")]


def test_evdev_badge_missing_device_is_not_opened(tmp_path: Path) -> None:
    InputDevice.opened.clear()
    cfg = EvdevBadgeConfig.model_validate(
        {"type": "evdev", "device": "/dev/input/by-id/usb-reader-event-kbd"})
    row = check_badge(cfg, Host(root=tmp_path, importer=importer({"evdev": evdev_standin()})))
    assert row.status == "FAIL" and "not present" in row.found
    assert InputDevice.opened == []
