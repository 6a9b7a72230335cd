"""A real pseudo-terminal pair standing in for a serial device (simulators, demos, tests).

The unit opens ``path`` like any serial port; the device side (a simulator) reads and
writes ``master_fd``. Given a ``link`` path, the slave is published as a symlink there so
it can be unplugged (master closed: the unit's reads fail with EIO, the path vanishes) and
plugged back (a new pty behind the same path), like a USB adapter with a udev name.
"""

from __future__ import annotations

import contextlib
import os
import tty
from pathlib import Path
from types import TracebackType


class PtyPair:
    """Context manager around ``os.openpty()`` with both ends in raw mode."""

    def __init__(self, link: str | os.PathLike[str] | None = None) -> None:
        self._link = Path(link) if link is not None else None
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_name = ""

    def __enter__(self) -> PtyPair:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> PtyPair:
        """Create the pty (and publish the link). Idempotent while plugged in."""
        if self._master is not None:
            return self
        master, slave = os.openpty()
        # Raw on the slave: no echo back to the device, no CR/LF translation, no signals.
        # We keep our own slave fd open so the pty is not hung up while the unit reopens.
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self._slave_name = os.ttyname(slave)
        if self._link is not None:
            tmp = self._link.with_name(self._link.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            os.symlink(self._slave_name, tmp)
            os.replace(tmp, self._link)  # atomic: the unit never sees a half-made link
        return self

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def master_fd(self) -> int:
        """The device end; raises RuntimeError while unplugged."""
        if self._master is None:
            raise RuntimeError("pty is unplugged")
        return self._master

    @property
    def slave_name(self) -> str:
        """The real /dev/pts/N of the current pty ('' before the first open)."""
        return self._slave_name

    @property
    def path(self) -> str:
        """What the unit opens: the link if one was given, else the slave device."""
        return str(self._link) if self._link is not None else self._slave_name

    def unplug(self) -> None:
        """Hang up: close both fds we hold and remove the link."""
        if self._link is not None:
            with contextlib.suppress(FileNotFoundError):
                self._link.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None

    def replug(self) -> None:
        """Plug a fresh pty in behind the same link."""
        self.unplug()
        self.open()

    def close(self) -> None:
        self.unplug()
