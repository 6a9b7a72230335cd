"""Split a badge reader's byte stream into UID lines. Pure.

Serial readers and (later) keyboard-emulation readers both deliver "UID then line end";
both feed this parser. CR, LF and CRLF all end a line; STX/ETX framing bytes that some
readers add are ignored; a line longer than ``max_line`` is discarded up to its end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hal.badge.uid import BadgeUidError, normalise_badge_uid

_LINE_END = re.compile(rb"[\r\n]")
_FRAMING = b"\x02\x03"


@dataclass(frozen=True, slots=True)
class BadgeLineError:
    """A rejected line: ``kind`` is "too_long" or "garbage"."""

    kind: str
    detail: str


@dataclass(slots=True)
class BadgeLineStats:
    lines: int = 0
    uids: int = 0
    too_long: int = 0
    garbage: int = 0


class BadgeLineParser:
    """Incremental: ``feed(bytes)`` returns the normalised UIDs and rejections completed."""

    def __init__(self, max_line: int = 64) -> None:
        self._max = max_line
        self._buf = bytearray()
        self._overflow = False  # inside a too-long line: drop until its end
        self.stats = BadgeLineStats()

    def feed(self, data: bytes) -> list[str | BadgeLineError]:
        out: list[str | BadgeLineError] = []
        *complete, rest = _LINE_END.split(data)
        for part in complete:
            self._append(part)
            out.extend(self._end_line())
        self._append(rest)  # the start of a line the next read finishes
        return out

    def reset(self) -> None:
        self._buf.clear()
        self._overflow = False

    def _append(self, part: bytes) -> None:
        if self._overflow:
            return
        self._buf += part.translate(None, _FRAMING)
        if len(self._buf) > self._max:
            self._buf.clear()
            self._overflow = True

    def _end_line(self) -> list[str | BadgeLineError]:
        if self._overflow:
            self._overflow = False
            self.stats.lines += 1
            self.stats.too_long += 1
            return [BadgeLineError("too_long", f"line longer than {self._max} bytes")]
        raw = bytes(self._buf)
        self._buf.clear()
        if not raw.strip():
            return []  # the LF of a CRLF, or a blank line
        self.stats.lines += 1
        try:
            uid = normalise_badge_uid(raw.decode("ascii"))
        except (UnicodeDecodeError, BadgeUidError):
            self.stats.garbage += 1
            return [BadgeLineError("garbage", f"not a UID: {raw[:40]!r}")]
        self.stats.uids += 1
        return [uid]
