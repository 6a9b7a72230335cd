"""The queue machine's serial line format (docs/queue-protocol.md): bytes <-> records.

Pure: no I/O, no clock. A line is ``$<body>*<CRC>`` ended by LF (CR LF accepted), where
the body is ASCII and the CRC is CRC-16/CCITT-FALSE over the body in four upper-case hex
digits. ``LineParser`` never raises on input and never turns a damaged line into a
record: every line is either a record or a counted ``LineError``.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

MAX_LINE_BYTES = 128
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
WAITING_MAX = 9999
UPTIME_MAX = 2**32 - 1


@dataclass(frozen=True, slots=True)
class Waiting:
    """``Q <service> <waiting>``: customers waiting for a service."""

    service: str
    waiting: int


@dataclass(frozen=True, slots=True)
class Called:
    """``C <ticket> <counter>``: a ticket was called to a counter (window)."""

    ticket: str
    counter: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``H <uptime_s>``: the queue machine is alive (sent when nothing else is)."""

    uptime_s: int


Record = Waiting | Called | Heartbeat


@dataclass(frozen=True, slots=True)
class LineError:
    """A rejected line; ``kind`` is the counter it went to."""

    kind: str  # "bad_checksum" | "bad_syntax" | "overlong" | "not_ascii" | "no_start"
    detail: str


@dataclass(slots=True)
class LineStats:
    lines: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    garbage_bytes: int = 0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def copy(self) -> LineStats:
        return LineStats(self.lines, self.accepted, dict(self.rejected), self.garbage_bytes)


def crc16(body: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF): ``crc16(b"123456789") == 0x29B1``."""
    return binascii.crc_hqx(body, 0xFFFF)


def body_of(record: Record) -> str:
    if isinstance(record, Waiting):
        return f"Q {record.service} {record.waiting}"
    if isinstance(record, Called):
        return f"C {record.ticket} {record.counter}"
    return f"H {record.uptime_s}"


def encode(record: Record) -> bytes:
    """One line, CR LF included; ValueError if a field breaks the format."""
    body = body_of(record).encode("ascii")
    parsed = parse_body(body)
    if parsed != record:
        raise ValueError(f"{record!r} cannot be sent: {parsed}")
    return b"$%s*%04X\r\n" % (body, crc16(body))


def _number(text: str, name: str, top: int) -> int | str:
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0"):
        return f"{name} {text!r} is not a decimal number"
    value = int(text)
    return value if value <= top else f"{name} {value} is above {top}"


def _name(text: str, what: str) -> str | None:
    return None if NAME_RE.fullmatch(text) else f"{what} {text!r} is not 1-32 of A-Z a-z 0-9 . _ -"


def parse_body(body: bytes) -> Record | LineError:
    """Parse a body whose CRC already matched (exact grammar: single spaces, no extras)."""
    text = body.decode("ascii")
    parts = text.split(" ")
    kind, args = parts[0], parts[1:]
    if kind == "Q" and len(args) == 2:
        bad = _name(args[0], "service")
        n = _number(args[1], "waiting", WAITING_MAX)
        if bad is None and isinstance(n, int):
            return Waiting(args[0], n)
        return LineError("bad_syntax", bad or str(n))
    if kind == "C" and len(args) == 2:
        bad = _name(args[0], "ticket") or _name(args[1], "counter")
        return Called(args[0], args[1]) if bad is None else LineError("bad_syntax", bad)
    if kind == "H" and len(args) == 1:
        n = _number(args[0], "uptime", UPTIME_MAX)
        return Heartbeat(n) if isinstance(n, int) else LineError("bad_syntax", n)
    return LineError("bad_syntax", f"unknown record {text[:40]!r}")


def parse_line(line: bytes) -> Record | LineError:
    """One line without its LF. Anything before the last ``$`` is noise, not a line."""
    start = line.rfind(b"$")
    if start < 0:
        return LineError("no_start", f"{len(line)} bytes without '$'")
    line = line[start + 1 :].removesuffix(b"\r")
    if not line.isascii():
        return LineError("not_ascii", "non-ASCII byte in the line")
    body, star, crc_text = line.rpartition(b"*")
    if not star or len(crc_text) != 4 or not re.fullmatch(rb"[0-9A-F]{4}", crc_text):
        return LineError("bad_syntax", "no '*' and four upper-case hex digits at the end")
    if int(crc_text, 16) != crc16(body):
        return LineError("bad_checksum", f"CRC {crc_text.decode()} != {crc16(body):04X}")
    return parse_body(body)


class LineParser:
    """Split a byte stream into lines and parse each; bounded memory whatever arrives."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._max = max_line
        self._buf = bytearray()
        self._overlong = False
        self.stats = LineStats()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        """Forget a partial line (the port was reopened)."""
        self._buf.clear()
        self._overlong = False

    def feed(self, data: bytes) -> list[Record | LineError]:
        out: list[Record | LineError] = []
        *lines, tail = data.split(b"\n")
        for chunk in lines:
            result = self._end_line(chunk)
            if result is not None:
                out.append(result)
        self._append(tail)
        return out

    def _append(self, data: bytes) -> None:
        if self._overlong:
            self.stats.garbage_bytes += len(data)
            return
        self._buf += data
        if len(self._buf) > self._max:
            # Keep nothing of a flood without line ends: the next LF ends it.
            self.stats.garbage_bytes += len(self._buf)
            self._buf.clear()
            self._overlong = True

    def _end_line(self, chunk: bytes) -> Record | LineError | None:
        self._append(chunk)
        overlong, line = self._overlong, bytes(self._buf)
        self.reset()
        if not overlong and not line.strip(b"\r"):
            return None  # a blank line (a lone CR LF) is not a line
        self.stats.lines += 1
        if overlong:
            result: Record | LineError = LineError("overlong", f"line over {self._max} bytes")
        else:
            result = parse_line(line)
        if isinstance(result, LineError):
            self.stats.rejected[result.kind] = self.stats.rejected.get(result.kind, 0) + 1
            if result.kind == "no_start":
                self.stats.garbage_bytes += len(line)
        else:
            self.stats.accepted += 1
        return result
