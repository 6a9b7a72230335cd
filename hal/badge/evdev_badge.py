"""Badge reader that is a USB keyboard ("keyboard wedge"), read through Linux evdev.

Implements hal.badge.base.BadgeReader with the same behaviour as SerialBadgeReader. The
device is grabbed (EVIOCGRAB) so the typed UID reaches only this process: without the grab
every tap would also be typed into the console or whatever window has focus.

python-evdev is imported only when a device is opened, so this module imports everywhere;
on a unit it comes from the ``evdev-binary`` package.
"""

from __future__ import annotations

import dataclasses
import errno
import importlib
import logging
import os
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from hal.badge.config import EvdevBadgeConfig
from hal.badge.keymap import EV_KEY, KeyDecoder
from hal.badge.lines import BadgeLineStats
from hal.badge.read_queue import BadgeReadQueue, QueuedReads

log = logging.getLogger(__name__)

EVDEV_PACKAGE = "evdev-binary"


class EvdevUnavailableError(RuntimeError):
    """python-evdev is not installed, so no keyboard-emulation reader can be opened."""


class InputEventLike(Protocol):
    """The part of evdev.InputEvent the reader uses."""

    @property
    def type(self) -> int: ...

    @property
    def code(self) -> int: ...

    @property
    def value(self) -> int: ...


class InputDeviceLike(Protocol):
    """The part of evdev.InputDevice the reader uses.

    ``fd`` is non-blocking; ``read()`` yields the queued events and raises BlockingIOError
    when there are none, OSError(ENODEV) once the device is unplugged.
    """

    @property
    def fd(self) -> int: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def read(self) -> Iterable[InputEventLike]: ...

    def close(self) -> None: ...


DeviceOpener = Callable[[str], InputDeviceLike]


def require_evdev() -> None:
    """Raise EvdevUnavailableError (naming the package to install) if evdev is missing."""
    try:
        importlib.import_module("evdev")
    except ImportError as exc:
        raise EvdevUnavailableError(
            "keyboard-emulation badge reader needs the python 'evdev' module, which is not "
            f"installed: install the '{EVDEV_PACKAGE}' package ({exc})"
        ) from None


def open_evdev_device(path: str) -> InputDeviceLike:
    """Open ``path`` with ``evdev.InputDevice`` (imported here, never at module import)."""
    require_evdev()
    evdev = importlib.import_module("evdev")
    device: InputDeviceLike = evdev.InputDevice(path)
    return device


@dataclass(frozen=True, slots=True)
class EvdevDeviceStats:
    opens: int = 0
    losses: int = 0
    open_failures: int = 0
    grab_failures: int = 0
    key_events: int = 0


@dataclass(frozen=True, slots=True)
class EvdevBadgeStats:
    """A snapshot of the reader's counters (``lines`` as for the serial reader)."""

    lines: BadgeLineStats
    device: EvdevDeviceStats
    repeats_suppressed: int
    reads_dropped: int


def describe_open_error(exc: OSError) -> str:
    """What an operator should know about a failed open or grab."""
    if exc.errno == errno.EBUSY:
        return "cannot grab: another process holds the device (EVIOCGRAB busy)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied ({exc}); the service user needs read access (group 'input')"
    if exc.errno == errno.ENOENT:
        return "no such device (not plugged in?)"
    if exc.errno == errno.ENOTTY:
        return "not an input event device (want a /dev/input/...-event-kbd path)"
    return f"cannot open: {exc}"


class EvdevBadgeReader(QueuedReads):
    """Reads UIDs typed by a keyboard-emulation badge reader, reopening it after unplug.

    ``device`` should be a stable path (``/dev/input/by-id/usb-...-event-kbd``): the
    ``eventN`` number can change on replug. A repeat of the same UID within
    ``repeat_suppress_s`` is counted and dropped, as for the serial reader.
    """

    @classmethod
    def from_config(cls, cfg: EvdevBadgeConfig, clock: Callable[[], float]) -> EvdevBadgeReader:
        """From its ``[badge]`` section; python-evdev is imported at start(), not here."""
        return cls(str(cfg.device), clock=clock, grab=cfg.grab)

    def __init__(
        self,
        device: str,
        *,
        clock: Callable[[], float],
        max_line: int = 32,
        repeat_suppress_s: float = 1.0,
        reconnect_s: float = 1.0,
        queue_size: int = 64,
        grab: bool = True,
        open_device: DeviceOpener | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self._clock = clock
        self._mono = monotonic
        self._queue = BadgeReadQueue(clock, monotonic, repeat_suppress_s, queue_size,
                                     str(device))
        self._reconnect_s = reconnect_s
        self._grab = grab
        self._injected_opener = open_device is not None
        self._open: DeviceOpener = open_device or open_evdev_device
        self._decoder = KeyDecoder(max_line)
        self._dev: InputDeviceLike | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1
        self._outage = False
        self._bug_logged = False
        self._dev_stats = EvdevDeviceStats()

    def start(self) -> None:
        """Start the reader thread; raises EvdevUnavailableError if evdev is missing."""
        if self._thread is not None:
            return
        if not self._injected_opener:
            require_evdev()
        self._stop.clear()
        # A byte on this pipe wakes the select() at once, so stop() never waits on a read.
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(
            target=self._run, name=f"badge {self.device}-reader", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop reading, ungrab and close the device (returns promptly)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        thread.join(timeout=5.0)
        if thread.is_alive():
            log.error("badge reader %s: reader thread did not stop", self.device)
            return  # it still owns the device and the pipe; leave them to it
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = -1

    @property
    def is_open(self) -> bool:
        """True while the device is open (and grabbed, if grabbing)."""
        return self._dev is not None

    @property
    def stats(self) -> EvdevBadgeStats:
        return EvdevBadgeStats(
            lines=dataclasses.replace(self._decoder.stats),
            device=self._dev_stats,
            repeats_suppressed=self._queue.suppressed,
            reads_dropped=self._queue.dropped,
        )

    # --- reader thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                dev = self._dev
                if dev is None:
                    if not self._try_open():
                        self._stop.wait(self._reconnect_s)
                    continue
                try:
                    ready, _, _ = select.select([dev.fd, self._wake_r], [], [])
                    if dev.fd in ready:
                        self._drain(dev)
                except OSError as exc:  # ENODEV once unplugged
                    self._lose(f"read failed: {exc}")
        finally:
            self._close(ungrab=True)

    def _drain(self, dev: InputDeviceLike) -> None:
        try:
            for event in dev.read():
                if event.type == EV_KEY:
                    self._count(key_events=1)
                    self._on_key_guarded(event.code, event.value)
        except BlockingIOError:
            pass  # woken with nothing queued: normal for a non-blocking fd

    def _try_open(self) -> bool:
        try:
            dev = self._open(self.device)
        except EvdevUnavailableError as exc:
            self._count(open_failures=1)
            self._report_outage(str(exc))
            return False
        except OSError as exc:
            self._count(open_failures=1)
            self._report_outage(describe_open_error(exc))
            return False
        if self._grab:
            try:
                dev.grab()
            except OSError as exc:
                self._count(grab_failures=1)
                self._report_outage(describe_open_error(exc))
                self._close_quietly(dev)
                return False
        self._decoder.reset()
        self._dev = dev
        self._count(opens=1)
        if self._outage:
            self._outage = False
            log.info("badge reader %s: recovered", self.device)
        return True

    def _report_outage(self, reason: str) -> None:
        # Once per outage, however many reopen attempts fail.
        if not self._outage:
            self._outage = True
            log.warning("badge reader %s: unavailable: %s", self.device, reason)
        else:
            log.debug("badge reader %s: still unavailable: %s", self.device, reason)

    def _lose(self, reason: str) -> None:
        self._close(ungrab=False)  # a vanished device cannot be ungrabbed
        self._count(losses=1)
        self._report_outage(reason)

    def _close(self, *, ungrab: bool) -> None:
        dev, self._dev = self._dev, None
        if dev is None:
            return
        if ungrab and self._grab:
            try:
                dev.ungrab()
            except OSError as exc:
                log.debug("badge reader %s: ungrab failed: %s", self.device, exc)
        self._close_quietly(dev)

    def _close_quietly(self, dev: InputDeviceLike) -> None:
        try:
            dev.close()
        except OSError as exc:
            log.debug("badge reader %s: close failed: %s", self.device, exc)

    def _count(self, **increments: int) -> None:
        current = self._dev_stats
        self._dev_stats = dataclasses.replace(
            current, **{k: getattr(current, k) + v for k, v in increments.items()}
        )

    # --- decoded keys --------------------------------------------------------------------

    def _on_key_guarded(self, code: int, value: int) -> None:
        # A bug in decoding must not kill the reader thread: the next tap still counts.
        try:
            self._on_key(code, value)
        except Exception:
            if not self._bug_logged:
                self._bug_logged = True
                log.exception("badge reader %s: key handling failed (further: debug)", self.device)
            else:
                log.debug("badge reader %s: key handling failed again", self.device, exc_info=True)

    def _on_key(self, code: int, value: int) -> None:
        self._queue.accept(self._decoder.feed(code, value))
