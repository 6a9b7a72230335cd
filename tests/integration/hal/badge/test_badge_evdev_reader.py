"""EvdevBadgeReader on its real reader thread, against the python-evdev stand-in."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator

import pytest

from hal.badge.base import BadgeRead
from hal.badge.evdev_badge import EvdevBadgeReader, EvdevUnavailableError, open_evdev_device
from hal.badge.keymap import KeyEvent, keys_for_text
from tests.conftest import wait_for
from tests.integration.hal.badge.test_badge_evdev_standin import PATH, StandInInputSystem

KEY_KP0, KEY_KP4, KEY_KP9, KEY_KPENTER = 82, 75, 73, 96
KEY_A, KEY_F, KEY_LEFTSHIFT, KEY_G = 30, 33, 42, 34


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


def collect(reader: EvdevBadgeReader, n: int, timeout_s: float = 5.0) -> list[BadgeRead]:
    got: list[BadgeRead] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {got}"
        reader.wait_for_read(remaining)
        got += reader.reads()
    return got


def messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


@pytest.fixture
def system() -> Iterator[StandInInputSystem]:
    s = StandInInputSystem()
    s.plug(PATH)
    yield s
    s.close_all()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_reader(
    system: StandInInputSystem,
    clock: Clock,
    *,
    reconnect_s: float = 0.02,
    queue_size: int = 64,
    grab: bool = True,
) -> EvdevBadgeReader:
    return EvdevBadgeReader(
        PATH,
        clock=clock,
        monotonic=clock,
        open_device=system.open_device,
        reconnect_s=reconnect_s,
        queue_size=queue_size,
        grab=grab,
    )


@pytest.fixture
def reader(system: StandInInputSystem, clock: Clock) -> Iterator[EvdevBadgeReader]:
    r = make_reader(system, clock)
    r.start()
    # Only keys typed after the open reach a handle, as with a real device.
    wait_for(lambda: r.is_open, 5.0, "reader open", poll_s=0.005)
    yield r
    r.stop()


def test_a_tap_is_one_read_stamped_with_the_callers_clock(
    reader: EvdevBadgeReader, system: StandInInputSystem
) -> None:
    assert reader.reads() == []  # non-blocking, nothing yet
    system.type_text(PATH, "04a1b2c3")
    assert collect(reader, 1) == [BadgeRead("04A1B2C3", 10.0)]
    assert reader.reads() == []
    stats = reader.stats
    assert stats.device.key_events == 18  # 9 keys down + up; EV_MSC/EV_SYN are not keys
    assert (stats.lines.uids, stats.device.opens) == (1, 1)


def test_keypad_digits_shifted_hex_and_autorepeat(
    reader: EvdevBadgeReader, system: StandInInputSystem
) -> None:
    keys = [(KEY_KP0, 1), (KEY_KP0, 0), (KEY_KP4, 1), (KEY_KP4, 2), (KEY_KP4, 2), (KEY_KP4, 0)]
    keys += [(KEY_LEFTSHIFT, 1), (KEY_A, 1), (KEY_A, 0), (KEY_F, 1), (KEY_F, 0)]
    keys += [(KEY_LEFTSHIFT, 0), (KEY_KP9, 1), (KEY_KP9, 0), (KEY_KPENTER, 1), (KEY_KPENTER, 0)]
    system.type_keys(PATH, keys)
    assert collect(reader, 1) == [BadgeRead("04AF9", 10.0)]


def test_garbage_and_long_lines_are_counted_logged_once_and_not_read(
    reader: EvdevBadgeReader, system: StandInInputSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    system.type_keys(PATH, [KeyEvent(KEY_G, 1), KeyEvent(KEY_G, 0), KeyEvent(28, 1)])
    system.type_text(PATH, "1" * 33)
    system.type_text(PATH, "12")
    system.type_text(PATH, "04A1B2C3")
    assert collect(reader, 1) == [BadgeRead("04A1B2C3", 10.0)]
    lines = reader.stats.lines
    assert (lines.garbage, lines.too_long, lines.uids) == (2, 1, 1)
    assert len(messages(caplog, "rejected a line")) == 1


def test_the_same_uid_within_a_second_is_one_tap(
    reader: EvdevBadgeReader, system: StandInInputSystem, clock: Clock
) -> None:
    system.type_text(PATH, "04A1B2C3")
    collect(reader, 1)
    clock.now = 10.9
    system.type_text(PATH, "04A1B2C3")
    wait_for(lambda: reader.stats.repeats_suppressed == 1, 5.0, "suppression", poll_s=0.005)
    clock.now = 12.0  # 1.1 s after the last sighting: a new tap
    system.type_text(PATH, "04A1B2C3")
    assert collect(reader, 1) == [BadgeRead("04A1B2C3", 12.0)]
    assert reader.stats.repeats_suppressed == 1


def test_reads_beyond_the_queue_drop_the_oldest(system: StandInInputSystem, clock: Clock) -> None:
    r = make_reader(system, clock, queue_size=4)
    r.start()
    try:
        wait_for(lambda: r.is_open, 5.0, "reader open", poll_s=0.005)
        for i in range(10):
            system.type_text(PATH, f"{i:08X}")
        wait_for(lambda: r.stats.lines.uids == 10, 5.0, "10 uids", poll_s=0.005)
        assert [x.uid for x in r.reads()] == [f"{i:08X}" for i in range(6, 10)]
        assert r.stats.reads_dropped == 6
    finally:
        r.stop()


def test_grabbed_before_any_read_and_ungrabbed_on_stop(
    system: StandInInputSystem, clock: Clock
) -> None:
    r = make_reader(system, clock)
    r.start()
    wait_for(lambda: r.is_open, 5.0, "reader open", poll_s=0.005)
    system.type_text(PATH, "1234")
    collect(r, 1)
    r.stop()
    ops = system.ops(handle=1)
    assert ops[:2] == ["open", "grab"] and "read" in ops
    assert ops[-2:] == ["ungrab", "close"]
    assert system.open_handles() == 0
    assert not r.is_open


def test_grab_false_never_grabs(system: StandInInputSystem, clock: Clock) -> None:
    r = make_reader(system, clock, grab=False)
    r.start()
    try:
        wait_for(lambda: r.is_open, 5.0, "reader open", poll_s=0.005)
        system.type_text(PATH, "1234")
        assert collect(r, 1)[0].uid == "1234"
    finally:
        r.stop()
    assert "grab" not in system.ops() and "ungrab" not in system.ops()


def test_grab_held_elsewhere_is_reported_once_and_retried(
    system: StandInInputSystem, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    system.hold_grab(PATH)
    r = make_reader(system, clock)
    r.start()
    try:
        wait_for(lambda: r.stats.device.grab_failures >= 3, 5.0, "grab retries", poll_s=0.005)
        assert not r.is_open
        [busy] = messages(caplog, "unavailable")
        assert "another process holds the device" in busy
        system.hold_grab(PATH, held=False)
        wait_for(lambda: r.is_open, 5.0, "reader open", poll_s=0.005)
        system.type_text(PATH, "1234")
        assert collect(r, 1)[0].uid == "1234"
        assert len(messages(caplog, "recovered")) == 1
    finally:
        r.stop()
    # Every attempt that could not grab closed its handle; the last one was ungrabbed.
    handles = sorted({c.handle for c in system.calls})
    assert all(system.ops(h) == ["open", "grab", "close"] for h in handles[:-1])
    assert system.ops(handles[-1])[-2:] == ["ungrab", "close"]
    assert system.open_handles() == 0


def test_unplug_then_replug_logs_once_each_and_reads_again(
    reader: EvdevBadgeReader,
    system: StandInInputSystem,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    system.type_text(PATH, "04A1B2C3")
    collect(reader, 1)
    system.type_keys(PATH, keys_for_text("9999")[:4])  # unplugged mid-UID: "99", no Enter
    wait_for(lambda: reader.stats.device.key_events == 22, 5.0, "partial UID", poll_s=0.005)
    system.unplug(PATH)
    wait_for(lambda: reader.stats.device.open_failures >= 3, 5.0, "reopen attempts", poll_s=0.005)
    assert not reader.is_open and reader.stats.device.losses == 1
    [lost] = messages(caplog, "unavailable")
    assert "No such device" in lost  # ENODEV, from the read
    assert messages(caplog, "recovered") == []
    system.plug(PATH)
    wait_for(lambda: reader.is_open, 5.0, "reopened", poll_s=0.005)
    clock.now = 20.0
    system.type_text(PATH, "04A1B2C3")
    # The half-typed "99" died with the old handle; it must not prefix the next UID.
    assert collect(reader, 1) == [BadgeRead("04A1B2C3", 20.0)]
    assert len(messages(caplog, "unavailable")) == 1
    assert len(messages(caplog, "recovered")) == 1
    assert reader.stats.device.opens == 2


@pytest.mark.parametrize("plugged", [True, False], ids=["blocked in select", "waiting to reopen"])
def test_stop_returns_promptly(system: StandInInputSystem, clock: Clock, plugged: bool) -> None:
    if not plugged:
        system.unplug(PATH)
    r = make_reader(system, clock, reconnect_s=60.0)
    r.start()
    if plugged:
        wait_for(lambda: r.is_open, 5.0, "reader open", poll_s=0.005)
    else:
        wait_for(lambda: r.stats.device.open_failures == 1, 5.0, "first open", poll_s=0.005)
    t0 = time.monotonic()
    r.stop()
    assert time.monotonic() - t0 < 1.0
    assert system.open_handles() == 0


def test_missing_evdev_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setitem(sys.modules, "evdev", None)  # makes `import evdev` fail
    r = EvdevBadgeReader(PATH, clock=clock)  # constructing touches nothing
    with pytest.raises(EvdevUnavailableError, match="evdev-binary"):
        r.start()
    with pytest.raises(EvdevUnavailableError, match="evdev-binary"):
        open_evdev_device(PATH)
    r.stop()  # never started: a no-op
