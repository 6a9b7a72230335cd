"""A STAND-IN for python-evdev's InputDevice, and the tests that keep it faithful.

This is not python-evdev and not a kernel device: it imitates the part of
``evdev.InputDevice`` that hal.badge.evdev_badge uses, with the semantics of the real one
(python-evdev 2.0 over the Linux evdev driver):

- ``fd`` is a real, non-blocking OS file descriptor (a pipe), so ``select`` works on it;
- events are written to it as the kernel's ``struct input_event`` and ``read()`` is a
  generator that reads up to 64 of them in one syscall, raising BlockingIOError when none
  are queued, as the real one does on its O_NONBLOCK fd;
- each open gets its own event queue, and only events typed after the open reach it;
- ``grab()`` is EVIOCGRAB: while one handle (or "another process") holds the grab, no other
  handle receives events and a second grab raises OSError(EBUSY); ``ungrab()`` of a handle
  not holding the grab raises OSError(EINVAL); closing a handle releases its grab;
- after an unplug the fd polls readable and ``read()``, ``grab()``, ``ungrab()`` raise
  OSError(ENODEV); opening the vanished path raises FileNotFoundError until a replug;
- each key is typed as the USB HID keyboard driver reports it: EV_MSC/MSC_SCAN, EV_KEY,
  EV_SYN/SYN_REPORT.

Every call on a handle is recorded in ``StandInInputSystem.calls``.
"""

from __future__ import annotations

import errno
import itertools
import os
import select
import struct
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest

from hal.badge.keymap import EV_KEY, EV_SYN, KeyEvent, keys_for_text

EV_MSC = 4
MSC_SCAN = 4
# struct input_event on 64-bit Linux: struct timeval (two longs), __u16 type, __u16 code,
# __s32 value.
INPUT_EVENT = struct.Struct("=llHHi")
_READ_MAX_EVENTS = 64  # python-evdev's device_read_many reads at most this many per call


@dataclass(frozen=True, slots=True)
class StandInEvent:
    """Shaped like evdev.InputEvent (sec, usec, type, code, value)."""

    sec: int
    usec: int
    type: int
    code: int
    value: int


@dataclass(frozen=True, slots=True)
class Call:
    op: str  # "open", "grab", "ungrab", "read", "close"
    handle: int
    outcome: str = "ok"  # "ok" or the errno name raised


class _Keyboard:
    """Kernel-side state of one plugged-in keyboard."""

    def __init__(self) -> None:
        self.handles: list[StandInInputDevice] = []
        self.grabbed_by: StandInInputDevice | None = None
        self.held_elsewhere = False


class StandInInputSystem:
    """The stand-in's "kernel": keyboards by path. ``open_device`` is the reader's opener."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._keyboards: dict[str, _Keyboard] = {}
        self._all: list[StandInInputDevice] = []
        self._ids = itertools.count(1)

    # --- the test's side: plug, type, unplug -----------------------------------------------

    def plug(self, path: str) -> None:
        with self._lock:
            self._keyboards[path] = _Keyboard()

    def unplug(self, path: str) -> None:
        with self._lock:
            keyboard = self._keyboards.pop(path)
            for handle in keyboard.handles:
                handle._unplug()

    def hold_grab(self, path: str, held: bool = True) -> None:
        """Another process takes (or releases) the grab on ``path``."""
        with self._lock:
            self._keyboards[path].held_elsewhere = held

    def type_keys(self, path: str, keys: Iterable[KeyEvent | tuple[int, int]]) -> None:
        events: list[tuple[int, int, int]] = []
        for key in keys:
            code, value = (key.code, key.value) if isinstance(key, KeyEvent) else key
            events += [(EV_MSC, MSC_SCAN, 0x70000 + code), (EV_KEY, code, value), (EV_SYN, 0, 0)]
        data = b"".join(INPUT_EVENT.pack(0, 0, *e) for e in events)
        assert len(data) <= select.PIPE_BUF, "one write must stay atomic, as a report is"
        with self._lock:
            keyboard = self._keyboards[path]
            if keyboard.held_elsewhere:
                return
            targets = [keyboard.grabbed_by] if keyboard.grabbed_by else keyboard.handles
            for handle in targets:
                if handle is not None:
                    os.write(handle._w, data)

    def type_text(self, path: str, text: str) -> None:
        """Tap a badge: ``text`` typed on the top row, then Enter."""
        self.type_keys(path, keys_for_text(text))

    # --- the reader's side -----------------------------------------------------------------

    def open_device(self, path: str) -> StandInInputDevice:
        """What ``evdev.InputDevice(path)`` does: open a new handle on the keyboard."""
        with self._lock:
            keyboard = self._keyboards.get(path)
            if keyboard is None:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
            handle = StandInInputDevice(path, next(self._ids), keyboard, self)
            keyboard.handles.append(handle)
            self._all.append(handle)
            self.calls.append(Call("open", handle.handle_id))
        return handle

    # --- inspection ------------------------------------------------------------------------

    def ops(self, handle: int | None = None) -> list[str]:
        return [c.op for c in self.calls if handle is None or c.handle == handle]

    def open_handles(self) -> int:
        return sum(1 for h in self._all if h.fd > -1)

    def close_all(self) -> None:
        for handle in self._all:
            handle._release_fds()

    def _record(self, op: str, handle: StandInInputDevice, exc: OSError | None = None) -> None:
        outcome = "ok" if exc is None else errno.errorcode.get(exc.errno or 0, "?")
        self.calls.append(Call(op, handle.handle_id, outcome))


def _oserror(code: int) -> OSError:
    return OSError(code, os.strerror(code))


class StandInInputDevice:
    """STAND-IN for ``evdev.InputDevice``: path, fd, fileno(), grab(), ungrab(), read(),
    close(). See the module docstring for the semantics it reproduces."""

    def __init__(
        self, path: str, handle_id: int, keyboard: _Keyboard, system: StandInInputSystem
    ) -> None:
        self.path = path
        self.handle_id = handle_id
        self._keyboard = keyboard
        self._system = system
        r, self._w = os.pipe()
        os.set_blocking(r, False)
        self.fd = r
        self._unplugged = False

    def fileno(self) -> int:
        return self.fd

    def grab(self) -> None:
        with self._system._lock:
            self._check_usable("grab")
            kb = self._keyboard
            if kb.held_elsewhere or kb.grabbed_by is not None:
                self._fail("grab", errno.EBUSY)
            kb.grabbed_by = self
            self._system._record("grab", self)

    def ungrab(self) -> None:
        with self._system._lock:
            self._check_usable("ungrab")
            if self._keyboard.grabbed_by is not self:
                self._fail("ungrab", errno.EINVAL)
            self._keyboard.grabbed_by = None
            self._system._record("ungrab", self)

    def read(self) -> Iterator[StandInEvent]:
        # A generator, as in python-evdev: nothing is read until the first next().
        with self._system._lock:
            self._check_usable("read")
            try:
                data = os.read(self.fd, INPUT_EVENT.size * _READ_MAX_EVENTS)
            except BlockingIOError as exc:
                self._system._record("read", self, exc)
                raise
            self._system._record("read", self)
        for fields in INPUT_EVENT.iter_unpack(data):
            yield StandInEvent(*fields)

    def close(self) -> None:
        with self._system._lock:
            if self.fd < 0:
                return
            if self._keyboard.grabbed_by is self:
                self._keyboard.grabbed_by = None  # the kernel drops a grab on release
            if self in self._keyboard.handles:
                self._keyboard.handles.remove(self)
            self._release_fds()
            self._system._record("close", self)

    def _check_usable(self, op: str) -> None:
        if self.fd < 0:
            self._fail(op, errno.EBADF)
        if self._unplugged:
            self._fail(op, errno.ENODEV)

    def _fail(self, op: str, code: int) -> None:
        exc = _oserror(code)
        self._system._record(op, self, exc)
        raise exc

    def _unplug(self) -> None:
        self._unplugged = True
        # Closing the write end makes the fd poll readable, as a disconnect (POLLHUP) does.
        if self._w > -1:
            os.close(self._w)
            self._w = -1

    def _release_fds(self) -> None:
        for name in ("fd", "_w"):
            fd = getattr(self, name)
            if fd > -1:
                os.close(fd)
                setattr(self, name, -1)


# --- the stand-in's own tests: it must behave as python-evdev does --------------------------

PATH = "/dev/input/by-id/usb-Test_Badge_Reader-event-kbd"


@pytest.fixture
def system() -> Iterator[StandInInputSystem]:
    s = StandInInputSystem()
    s.plug(PATH)
    yield s
    s.close_all()


def readable(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


def test_read_with_nothing_queued_raises_blocking_io_error(system: StandInInputSystem) -> None:
    dev = system.open_device(PATH)
    gen = dev.read()  # a generator: the read happens on iteration, as in python-evdev
    assert not readable(dev.fd)
    with pytest.raises(BlockingIOError):
        next(iter(gen))


def test_typed_keys_arrive_as_the_hid_driver_reports_them(system: StandInInputSystem) -> None:
    dev = system.open_device(PATH)
    system.type_keys(PATH, [(30, 1), (30, 0)])
    assert readable(dev.fd)
    got = [(e.type, e.code, e.value) for e in dev.read()]
    scan = (EV_MSC, MSC_SCAN, 0x70000 + 30)
    assert got == [scan, (1, 30, 1), (0, 0, 0), scan, (1, 30, 0), (0, 0, 0)]
    assert not readable(dev.fd)


def test_events_before_open_are_not_delivered(system: StandInInputSystem) -> None:
    system.type_text(PATH, "1234")
    dev = system.open_device(PATH)
    assert not readable(dev.fd)


def test_grab_is_exclusive(system: StandInInputSystem) -> None:
    a, b = system.open_device(PATH), system.open_device(PATH)
    a.grab()
    with pytest.raises(OSError) as busy:
        b.grab()
    assert busy.value.errno == errno.EBUSY
    system.type_text(PATH, "1234")
    assert readable(a.fd) and not readable(b.fd)
    with pytest.raises(OSError) as inval:
        b.ungrab()
    assert inval.value.errno == errno.EINVAL
    a.close()  # releases the grab
    b.grab()


def test_another_process_holding_the_grab_gives_ebusy(system: StandInInputSystem) -> None:
    system.hold_grab(PATH)
    dev = system.open_device(PATH)
    with pytest.raises(OSError) as busy:
        dev.grab()
    assert busy.value.errno == errno.EBUSY
    system.type_text(PATH, "1234")
    assert not readable(dev.fd)


def test_unplug_gives_enodev_and_the_path_vanishes(system: StandInInputSystem) -> None:
    dev = system.open_device(PATH)
    dev.grab()
    system.unplug(PATH)
    assert readable(dev.fd)  # a disconnect wakes select, as POLLHUP does
    for op in (lambda: list(dev.read()), dev.grab, dev.ungrab):
        with pytest.raises(OSError) as gone:
            op()
        assert gone.value.errno == errno.ENODEV
    dev.close()
    with pytest.raises(FileNotFoundError):
        system.open_device(PATH)
    system.plug(PATH)
    assert system.open_device(PATH).fd > -1
    assert system.ops() == ["open", "grab", "read", "grab", "ungrab", "close", "open"]
