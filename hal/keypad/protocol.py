"""Keypad wire protocol: frames <-> messages. Pure: no I/O, no clocks, never raises on input.

Frame (all multi-byte integers little-endian, including the CRC)::

    A5 | version | type | seq | length (u16) | payload (length bytes) | CRC-16 (u16)

The CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor;
check value 0x29B1 over b"123456789") computed over version..payload. Version 2 frames
(version byte 0x02, and every later version) end in a CRC-32 instead (CRC-32/ISO-HDLC,
zlib's; check value 0xCBF43926), four bytes. The full specification, with byte-level
examples and the version negotiation, is docs/keypad-protocol.md.
"""

from __future__ import annotations

import binascii
import dataclasses
import struct
from dataclasses import dataclass
from typing import Literal

from hal.keypad.messages import (
    KEYPAD_TO_UNIT,
    MAX_PAYLOAD,
    MESSAGE_CLASSES,
    UNIT_TO_KEYPAD,
    Ack,
    AckStatus,
    Clear,
    Fault,
    Heartbeat,
    Key,
    ManualRecord,
    Message,
    MsgType,
    PayloadError,
    Ping,
    PleaseRate,
    Pong,
    PromptRating,
    ProtocolError,
    RatingKey,
    SetBrightness,
    SetVolume,
    ShowMessage,
    ShowStaff,
    ShowWindowState,
    ThankYou,
    WindowStateKey,
    decode_payload,
    fit_utf8,
)

__all__ = [
    "CRC_LEN",
    "HEADER_LEN",
    "KEYPAD_TO_UNIT",
    "MAX_FRAME",
    "MAX_PAYLOAD",
    "MESSAGE_CLASSES",
    "SOF",
    "UNIT_TO_KEYPAD",
    "VERSION",
    "VERSION_2",
    "Ack",
    "AckStatus",
    "Clear",
    "Fault",
    "FrameParser",
    "Heartbeat",
    "Key",
    "ManualRecord",
    "Message",
    "MsgType",
    "ParseError",
    "ParserStats",
    "Ping",
    "PleaseRate",
    "Pong",
    "PromptRating",
    "ProtocolError",
    "RatingKey",
    "SetBrightness",
    "SetVolume",
    "ShowMessage",
    "ShowStaff",
    "ShowWindowState",
    "ThankYou",
    "WindowStateKey",
    "crc16",
    "crc32",
    "crc_len",
    "encode",
    "fit_utf8",
    "with_seq",
]

SOF = 0xA5
VERSION = 0x01
VERSION_2 = 0x02
VERSIONS = (VERSION, VERSION_2)
HEADER_LEN = 6
CRC_LEN = 2  # version 1
CRC32_LEN = 4  # version 2 and later
MAX_FRAME = HEADER_LEN + MAX_PAYLOAD + CRC32_LEN
_SOF_BYTES = bytes([SOF])

ParseErrorKind = Literal[
    "bad_crc", "oversize", "bad_version", "unknown_type", "bad_payload", "truncated"
]


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF); binascii.crc_hqx is exactly that."""
    return binascii.crc_hqx(data, 0xFFFF)


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC (zlib's: poly 0x04C11DB7 reflected, init and final xor 0xFFFFFFFF)."""
    return binascii.crc32(data)


def crc_len(version: int) -> int:
    """Bytes of check at the end of a frame of ``version``: 2 for version 1, else 4."""
    return CRC_LEN if version == VERSION else CRC32_LEN


def _check(version: int, body: bytes) -> bytes:
    if version == VERSION:
        return struct.pack("<H", crc16(body))
    return struct.pack("<I", crc32(body))


def encode(msg: Message, version: int = VERSION) -> bytes:
    """The complete frame for ``msg`` (its ``seq`` goes into the header) in ``version``."""
    if version not in VERSIONS:
        raise ProtocolError(f"version {version} is not one of {VERSIONS}")
    payload = msg.payload()
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload is {len(payload)} bytes, the limit is {MAX_PAYLOAD}")
    body = struct.pack("<BBBH", version, int(msg.TYPE), msg.seq, len(payload)) + payload
    return _SOF_BYTES + body + _check(version, body)


def with_seq(msg: Message, seq: int) -> Message:
    """A copy of ``msg`` carrying sequence number ``seq`` (wrapped to 0..255)."""
    return dataclasses.replace(msg, seq=seq & 0xFF)


@dataclass(frozen=True, slots=True)
class ParseError:
    """One rejected frame candidate; ``discarded`` bytes were dropped for it."""

    kind: ParseErrorKind
    detail: str
    discarded: int


@dataclass(slots=True)
class ParserStats:
    """Byte and rejection counters. Invariant: ``bytes_in == bytes_ok + discarded_bytes +
    pending`` (``pending``: bytes buffered towards a frame not yet complete)."""

    bytes_in: int = 0
    pending: int = 0
    bytes_ok: int = 0
    frames_ok: int = 0
    frames_v2: int = 0  # of frames_ok, those of version 2
    discarded_bytes: int = 0
    garbage_bytes: int = 0
    bad_crc: int = 0
    oversize: int = 0
    bad_version: int = 0
    unknown_type: int = 0
    bad_payload: int = 0
    truncated: int = 0

    @property
    def rejected(self) -> int:
        """Frame candidates rejected for any reason (garbage between frames not included)."""
        return (
            self.bad_crc
            + self.oversize
            + self.bad_version
            + self.unknown_type
            + self.bad_payload
            + self.truncated
        )

    def copy(self) -> ParserStats:
        return dataclasses.replace(self)


class FrameParser:
    """Incremental frame parser for one direction of one link.

    Feed it whatever the transport delivered; it returns the messages and rejections
    completed so far and keeps at most one partial frame. After a bad CRC, an oversize
    length or an abandoned partial frame it drops only the start byte and rescans, so a
    stray 0xA5 in noise cannot swallow a real frame that follows it.
    """

    def __init__(self, min_version: int = VERSION, max_version: int = VERSION_2) -> None:
        self._buf = bytearray()
        self.stats = ParserStats()
        # Frames of a lower version are dropped (bad_version): once a link has agreed on
        # version 2, a corrupted frame cannot slip in through version 1's weaker CRC.
        self.min_version = min_version
        self.max_version = max_version  # 1: a version-1 device, which drops version 2
        self.last_version: int | None = None  # of the last frame accepted

    @property
    def pending(self) -> int:
        """Bytes buffered towards a frame not yet complete."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message | ParseError]:
        """Add received bytes; return every message/rejection they complete, in order."""
        self._buf += data
        self.stats.bytes_in += len(data)
        self.stats.pending = len(self._buf)
        return self._drain(line_idle=False)

    def idle(self) -> list[Message | ParseError]:
        """The line went quiet with a partial frame buffered (inter-byte timeout).

        A sender writes a frame in one go, so the partial frame will never complete:
        abandon it and recover any whole frame buffered behind a corrupted length.
        """
        return self._drain(line_idle=True)

    def reset(self) -> None:
        """Forget buffered bytes (the link was reopened)."""
        self._drop(len(self._buf))

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self.stats.discarded_bytes += n
        self.stats.pending = len(self._buf)

    def _reject(self, kind: ParseErrorKind, detail: str, n: int) -> ParseError:
        self._drop(n)
        setattr(self.stats, kind, getattr(self.stats, kind) + 1)
        return ParseError(kind, detail, n)

    def _drain(self, *, line_idle: bool) -> list[Message | ParseError]:
        out: list[Message | ParseError] = []
        buf = self._buf
        while buf:
            if buf[0] != SOF:
                start = buf.find(_SOF_BYTES)
                skip = len(buf) if start < 0 else start
                self.stats.garbage_bytes += skip
                self._drop(skip)
                continue
            if len(buf) < HEADER_LEN:
                if line_idle:
                    out.append(self._reject("truncated", f"{len(buf)}-byte partial header", 1))
                    continue
                break
            length = buf[4] | (buf[5] << 8)
            if length > MAX_PAYLOAD:
                out.append(self._reject("oversize", f"length {length} > {MAX_PAYLOAD}", 1))
                continue
            total = HEADER_LEN + length + crc_len(buf[1])
            if len(buf) < total:
                if line_idle:
                    detail = f"{len(buf)} of {total} bytes before the line went idle"
                    out.append(self._reject("truncated", detail, 1))
                    continue
                break
            out.append(self._take_frame(bytes(buf[:total])))
        return out

    def _take_frame(self, frame: bytes) -> Message | ParseError:
        n = crc_len(frame[1])
        received, computed = frame[-n:], _check(frame[1], frame[1:-n])
        if received != computed:
            detail = f"crc {received.hex()} != {computed.hex()}"
            return self._reject("bad_crc", detail, 1)
        # The CRC vouches for the length, so a well-formed frame we cannot use is dropped
        # whole rather than rescanned (its payload could hold a fake start byte).
        version, msg_type, seq = frame[1], frame[2], frame[3]
        total = len(frame)
        if version not in VERSIONS or not self.min_version <= version <= self.max_version:
            return self._reject("bad_version", f"version {version:#04x}", total)
        if msg_type not in MESSAGE_CLASSES:
            return self._reject("unknown_type", f"type {msg_type:#04x}", total)
        try:
            msg = decode_payload(msg_type, seq, frame[HEADER_LEN:-n])
        except PayloadError as exc:
            return self._reject("bad_payload", f"type {msg_type:#04x}: {exc}", total)
        del self._buf[:total]
        self.stats.pending = len(self._buf)
        self.stats.frames_ok += 1
        self.stats.frames_v2 += version == VERSION_2
        self.stats.bytes_ok += total
        self.last_version = version
        return msg
