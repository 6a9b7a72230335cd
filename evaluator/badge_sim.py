"""A simulated serial badge reader: the device end of the line, writing one UID per tap."""

from __future__ import annotations

from evaluator.sim_transport import DeviceTransport, FdTransport, SerialTransport


class BadgeSim:
    """A simulated serial badge reader: writes one UID per line."""

    def __init__(self, transport: DeviceTransport, *, line_end: bytes = b"\r\n") -> None:
        self._tr = transport
        self._end = line_end

    @classmethod
    def over_fd(cls, fd: int, **kwargs: bytes) -> BadgeSim:
        return cls(FdTransport(fd), **kwargs)

    @classmethod
    def over_url(cls, url: str, **kwargs: bytes) -> BadgeSim:
        return cls(SerialTransport(url, baudrate=9600), **kwargs)

    def tap(self, uid: str) -> None:
        """A badge tap: the UID followed by the line end."""
        self._tr.write(uid.encode("ascii") + self._end)

    def send_raw(self, data: bytes) -> None:
        self._tr.write(data)

    def close(self) -> None:
        self._tr.close()


