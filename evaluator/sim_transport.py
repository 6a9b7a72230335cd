"""Device-side byte transports for the simulators: a pty master fd or a pyserial URL."""

from __future__ import annotations

import os
import select
from typing import Protocol

import serial


class TransportClosed(Exception):
    """The device side of the line is gone (pty closed, port unplugged)."""


class DeviceTransport(Protocol):
    def read(self, timeout_s: float) -> bytes:
        """Bytes available within ``timeout_s`` (b"" if none); TransportClosed when gone."""
        ...

    def write(self, data: bytes) -> None:
        """Write all of ``data``; TransportClosed when gone."""
        ...

    def close(self) -> None: ...


class FdTransport:
    """A pty master fd. Borrowed, not owned: whoever made the pty closes it (unplug)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._closed = False

    def read(self, timeout_s: float) -> bytes:
        if self._closed:
            raise TransportClosed("transport closed")
        try:
            ready, _, _ = select.select([self._fd], [], [], timeout_s)
            if not ready:
                return b""
            data = os.read(self._fd, 4096)
        except (OSError, ValueError) as exc:
            raise TransportClosed(str(exc)) from None
        if not data:
            raise TransportClosed("end of file")
        return data

    def write(self, data: bytes) -> None:
        if self._closed:
            raise TransportClosed("transport closed")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise TransportClosed(str(exc)) from None

    def close(self) -> None:
        self._closed = True


class SerialTransport:
    """Any pyserial URL: a real port (USB adapter wired to the unit) or ``loop://``."""

    def __init__(self, url: str, *, baudrate: int = 115200) -> None:
        try:
            self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportClosed(f"cannot open {url}: {exc}") from None

    def read(self, timeout_s: float) -> bytes:
        try:
            self._port.timeout = timeout_s
            data: bytes = self._port.read(self._port.in_waiting or 1)
        except (serial.SerialException, OSError) as exc:
            raise TransportClosed(str(exc)) from None
        return data

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise TransportClosed(str(exc)) from None

    def close(self) -> None:
        self._port.close()
