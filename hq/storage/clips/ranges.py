"""HTTP Range parsing for clip downloads (RFC 9110 §14), single byte range only."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import RangeNotSatisfiable

_SPEC = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE | re.ASCII)
# A position past any file HQ holds; longer digit strings all mean "beyond the end"
# (int() of thousands of digits is slow, and past 4,300 digits Python refuses it).
_BEYOND = 10**18


def _position(digits: str) -> int:
    """A byte position from its decimal digits, capped at ``_BEYOND``."""
    digits = digits.lstrip("0") or "0"
    return _BEYOND if len(digits) > 18 else int(digits)


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start..end`` inclusive of a representation of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def content_range(self) -> str:
        """The ``Content-Range`` value of the 206 response."""
        return f"bytes {self.start}-{self.end}/{self.size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range a ``Range`` header asks for, or ``None`` to send the whole body (200).

    Malformed headers, other units and multiple ranges are ignored (``None``), as
    RFC 9110 allows; a well-formed range that selects no byte raises
    RangeNotSatisfiable (416).
    """
    if header is None or not header.strip():
        return None
    m = _SPEC.fullmatch(header)
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = _position(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header, size)
        return ByteRange(max(0, size - suffix), size - 1, size)
    start = _position(first)
    end = _position(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(header, size)
    return ByteRange(start, min(end, size - 1), size)
