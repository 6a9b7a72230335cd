"""One serial port kept open on a reader thread: opened by pyserial URL, reopened after loss.

Shared by the keypad and the badge reader. It knows bytes only; the owner parses them and
decides what "link up" means. Loss is reported once per outage (``on_lost``), however many
reopen attempts fail; ``on_open`` fires on every successful (re)open.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

log = logging.getLogger(__name__)

# Expected port failures: unplugged adapter (EIO / "returned no data"), vanished path,
# permission or bad URL (ValueError from serial_for_url). Anything else is a bug.
PORT_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, ValueError)


class SerialPort(Protocol):
    """The part of pyserial's SerialBase the link uses."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def close(self) -> None: ...


PortFactory = Callable[[], SerialPort]


def url_port_factory(
    url: str, *, baudrate: int, read_timeout_s: float = 0.05, write_timeout_s: float = 0.5
) -> PortFactory:
    """Open ``url`` with ``serial.serial_for_url`` (device path, pty path, ``loop://``...)."""
    return functools.partial(
        serial.serial_for_url,
        url,
        baudrate=baudrate,
        timeout=read_timeout_s,
        write_timeout=write_timeout_s,
    )


@dataclass(slots=True)
class LinkStats:
    opens: int = 0
    losses: int = 0
    open_failures: int = 0
    write_failures: int = 0
    bytes_rx: int = 0
    bytes_tx: int = 0


class SerialLink:
    """Reader thread + reconnect loop around one port."""

    def __init__(
        self,
        *,
        name: str,
        port_factory: PortFactory,
        reconnect_s: float,
        on_data: Callable[[bytes], None],
        on_open: Callable[[], None],
        on_lost: Callable[[str], None],
        on_poll: Callable[[], None],
    ) -> None:
        self.name = name
        self._factory = port_factory
        self._reconnect_s = reconnect_s
        self._on_data = on_data
        self._on_open = on_open
        self._on_lost = on_lost
        self._on_poll = on_poll
        self._port: SerialPort | None = None
        self._lock = threading.Lock()  # guards _port against write/close races
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._outage = False
        self._bug_logged = False
        self.stats = LinkStats()

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-reader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        self._close()

    def write(self, data: bytes) -> bool:
        """Send ``data``; False (and counted) when the port is closed or the write failed."""
        with self._lock:
            port = self._port
            if port is None:
                self.stats.write_failures += 1
                return False
            try:
                port.write(data)
            except PORT_ERRORS as exc:
                # The reader notices a dead port on its own; a write timeout (device not
                # draining) is not a reason to drop the link.
                self.stats.write_failures += 1
                log.debug("%s: write failed: %s", self.name, exc)
                return False
            self.stats.bytes_tx += len(data)
            return True

    def _run(self) -> None:
        while not self._stop.is_set():
            port = self._port
            if port is None:
                if not self._try_open():
                    self._call(self._on_poll)
                    self._stop.wait(self._reconnect_s)
                continue
            try:
                data = port.read(port.in_waiting or 1)
            except PORT_ERRORS as exc:
                self._lose(f"read failed: {exc}")
                continue
            if data:
                self.stats.bytes_rx += len(data)
                self._call(self._on_data, data)
            self._call(self._on_poll)

    def _try_open(self) -> bool:
        try:
            port = self._factory()
        except PORT_ERRORS as exc:
            self.stats.open_failures += 1
            if not self._outage:
                self._outage = True
                self._call(self._on_lost, f"cannot open: {exc}")
            else:
                log.debug("%s: reopen failed: %s", self.name, exc)
            return False
        with self._lock:
            self._port = port
        self._outage = False
        self.stats.opens += 1
        self._call(self._on_open)
        return True

    def _lose(self, reason: str) -> None:
        self._close()
        self.stats.losses += 1
        if not self._outage:
            self._outage = True
            self._call(self._on_lost, reason)

    def _close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS as exc:
                log.debug("%s: close failed: %s", self.name, exc)

    def _call(self, fn: Callable[..., None], *args: object) -> None:
        # A bug in a callback must not kill the reader: the unit keeps reading the line.
        try:
            fn(*args)
        except Exception:
            if not self._bug_logged:
                self._bug_logged = True
                log.exception("%s: handler failed (further failures logged at debug)", self.name)
            else:
                log.debug("%s: handler failed again", self.name, exc_info=True)
