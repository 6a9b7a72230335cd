"""Payload field primitives of the keypad protocol: range checks, UTF-8 strings, a reader. Pure."""

from __future__ import annotations

import struct


class ProtocolError(ValueError):
    """A message field is out of range or too long (raised when building or encoding)."""


class PayloadError(ValueError):
    """A received payload does not match its message type's layout."""


def check_int(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ProtocolError(f"{name}={value!r} is out of range {lo}..{hi}")


def check_text(name: str, value: str, max_bytes: int) -> None:
    if not isinstance(value, str):
        raise ProtocolError(f"{name} must be str, got {type(value).__name__}")
    size = len(value.encode("utf-8"))
    if size > max_bytes:
        raise ProtocolError(f"{name} is {size} bytes of UTF-8, the limit is {max_bytes}")


def fit_utf8(text: str, max_bytes: int) -> str:
    """Cut ``text`` to at most ``max_bytes`` of UTF-8 without splitting a character."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    return raw[:max_bytes].decode("utf-8", errors="ignore")


def str8(value: str) -> bytes:
    raw = value.encode("utf-8")
    return bytes([len(raw)]) + raw


class Reader:
    """Reads payload fields front to back; any shortfall is a PayloadError."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        if self._pos + n > len(self._data):
            raise PayloadError(f"payload too short: needs {self._pos + n} bytes")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("<H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def str8(self) -> str:
        raw = self.take(self.u8())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError(f"string is not valid UTF-8: {exc.reason}") from None

    def end(self) -> None:
        if self._pos != len(self._data):
            raise PayloadError(f"{len(self._data) - self._pos} unexpected trailing bytes")
