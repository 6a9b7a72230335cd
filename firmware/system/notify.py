"""systemd notifications (READY, WATCHDOG, STOPPING) when NOTIFY_SOCKET is set."""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


class Notifier:
    """Talks to systemd's notify socket; does nothing when not run by systemd.

    Written against the socket directly (a few lines) rather than systemd-python
    so that the daemon needs no compiled extension to be supervised.
    """

    def __init__(self, address: str | None = None, clock: object = time.monotonic) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET")
        self._clock = clock
        usec = os.environ.get("WATCHDOG_USEC")
        self.watchdog_s = int(usec) / 1e6 if usec and usec.isdigit() else None
        self._last_ping = float("-inf")
        self._failing = False

    def _send(self, message: str) -> None:
        if not self.address:
            return
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Never block the counting loop on a full notify queue: a lost
                # ping costs at most a restart, a blocked loop costs recordings.
                sock.setblocking(False)
                sock.connect(addr)
                sock.sendall(message.encode())
        except OSError as exc:
            if not self._failing:
                log.warning("systemd notify failed: %s", exc)
            self._failing = True
        else:
            if self._failing:
                log.info("systemd notify works again")
            self._failing = False

    def ready(self, status: str = "") -> None:
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def watchdog(self, now: float) -> None:
        """Ping at most twice per watchdog interval; call only from a live loop."""
        interval = (self.watchdog_s or 10.0) / 2
        if now - self._last_ping >= interval:
            self._last_ping = now
            self._send("WATCHDOG=1")
