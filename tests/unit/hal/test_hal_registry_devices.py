"""The keypad and badge reader back-ends in the hal registry, like camera/mic/queue."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from firmware.config.unit import parse_config
from hal.badge.backends import BADGES
from hal.badge.config import EvdevBadgeConfig, SerialBadgeConfig
from hal.keypad.backends import KEYPADS
from hal.keypad.config import KeypadConfig
from hal.registry import Backend, open_backend

CAMERA = {"camera": {"type": "file", "path": "/nonexistent/day.mp4"}}


@pytest.mark.parametrize(("backends", "models"), [
    (KEYPADS, {KeypadConfig}), (BADGES, {SerialBadgeConfig, EvdevBadgeConfig})])
def test_one_backend_per_config_model(backends: tuple[Backend, ...], models: set[type]) -> None:
    assert {b.config for b in backends} == models
    for b in backends:
        assert typing.get_args(b.config.model_fields["type"].annotation) == (b.type_key,)
        assert callable(getattr(b.load(), "from_config", None)), b.target


def test_listing_them_imports_no_backend_module() -> None:
    code = ("import sys, hal.keypad.backends, hal.badge.backends\n"
            "print(sorted(m for m in sys.modules if m.startswith(('hal.keypad.', 'hal.badge.',"
            " 'serial', 'evdev', 'evaluator')) and m.split('.')[-1] not in"
            " ('backends', 'config')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]", out


def test_config_to_backend_is_one_lookup() -> None:
    from hal.badge.evdev_badge import EvdevBadgeReader
    from hal.badge.serial_badge import SerialBadgeReader
    from hal.keypad.serial_keypad import SerialKeypad

    cfg = parse_config({**CAMERA, "keypad": {"url": "loop://"},
                        "badge": {"type": "evdev", "device": "/dev/input/by-id/kbd"}})
    assert cfg.keypad is not None and cfg.keypad.type == "serial"  # the default type
    keypad = open_backend(KEYPADS, cfg.keypad, lambda: 0.0)
    assert isinstance(keypad, SerialKeypad)
    assert cfg.badge is not None
    badge = open_backend(BADGES, cfg.badge, lambda: 0.0)
    assert isinstance(badge, EvdevBadgeReader)  # python-evdev is imported at start()
    default = parse_config(CAMERA).badge
    assert default is not None
    serial = open_backend(BADGES, default, lambda: 0.0)
    assert isinstance(serial, SerialBadgeReader)
