"""The real back-end on a real kernel input device: a uinput virtual keyboard taps a UID.

Needs python-evdev (package evdev-binary) importable and /dev/uinput usable; otherwise it is
skipped with the reason, since no stand-in can prove the kernel side.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import time
from types import ModuleType

import pytest

from hal.badge.base import BadgeRead
from hal.badge.evdev_badge import EvdevBadgeReader
from hal.badge.keymap import EV_KEY, KEY_CHARS, KEY_ENTER, keys_for_text
from tests.conftest import wait_for

UINPUT = "/dev/uinput"


def evdev_with_uinput_or_skip() -> ModuleType:
    """python-evdev, if it is importable and /dev/uinput is usable; else skip, saying why."""
    try:
        evdev = importlib.import_module("evdev")
    except ImportError:
        pytest.skip(
            "python-evdev (evdev-binary, in requirements/device.txt) is not importable here, "
            "so the real evdev back-end cannot be exercised"
        )
    if not os.path.exists(UINPUT):
        pytest.skip(f"{UINPUT} does not exist (no uinput kernel module in this environment)")
    if not os.access(UINPUT, os.R_OK | os.W_OK):
        pytest.skip(f"{UINPUT} is not readable and writable by this user")
    return evdev


def test_a_uinput_keyboard_tap_is_read_grabbed_and_released(
    caplog: pytest.LogCaptureFixture,
) -> None:
    evdev = evdev_with_uinput_or_skip()
    try:
        ui = evdev.UInput({EV_KEY: [*KEY_CHARS, KEY_ENTER]}, name="counterunit-test-badge")
    except (OSError, evdev.UInputError) as exc:
        pytest.skip(f"cannot create a uinput device: {exc}")
    caplog.set_level(logging.INFO)
    bystander = ui.device  # another opener of the same node, like a console would be
    reader = EvdevBadgeReader(bystander.path, clock=lambda: 42.0, reconnect_s=0.05)
    try:
        reader.start()
        wait_for(lambda: reader.is_open, 5.0, "real device open", poll_s=0.01)
        for key in keys_for_text("04A1B2C3"):
            ui.write(EV_KEY, key.code, key.value)
            ui.syn()
        assert reader.wait_for_read(5.0)
        assert reader.reads() == [BadgeRead("04A1B2C3", 42.0)]
        # Grabbed: the bystander saw none of it and cannot grab.
        with pytest.raises(BlockingIOError):
            list(bystander.read())
        with pytest.raises(OSError) as busy:
            bystander.grab()
        assert busy.value.errno == errno.EBUSY
        t0 = time.monotonic()
        reader.stop()
        assert time.monotonic() - t0 < 1.0
        bystander.grab()  # released by stop()
        bystander.ungrab()
        # Unplug for real: the kernel reports ENODEV and the reader logs the loss once.
        reader.start()
        wait_for(lambda: reader.is_open, 5.0, "real device reopened", poll_s=0.01)
        ui.close()
        wait_for(lambda: not reader.is_open, 5.0, "loss noticed", poll_s=0.01)
        assert reader.stats.device.losses == 1
        assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
    finally:
        reader.stop()
        ui.close()


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/dev/input/by-id/no-such-reader-event-kbd", "no such device"),
        ("/dev/null", "not an input event device"),
    ],
)
def test_real_evdev_on_a_missing_or_non_input_node_is_an_outage(
    path: str, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        importlib.import_module("evdev")
    except ImportError:
        pytest.skip("python-evdev (evdev-binary, in requirements/device.txt) is not importable")
    caplog.set_level(logging.WARNING)
    reader = EvdevBadgeReader(path, clock=time.time, reconnect_s=0.02)
    reader.start()
    try:
        wait_for(lambda: reader.stats.device.open_failures >= 3, 5.0, "retries", poll_s=0.01)
        assert not reader.is_open
    finally:
        reader.stop()
    [lost] = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert why in lost
