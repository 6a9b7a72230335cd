"""Keypad wire protocol: frames <-> messages. Pure: no I/O, no clocks, never raises on input.

Frame (all multi-byte integers little-endian, including the CRC)::

    A5 | version | type | seq | length (u16) | payload (length bytes) | CRC-16 (u16)

The CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor;
check value 0x29B1 over b"123456789") computed over version..payload. The full
specification, with byte-level examples, is docs/keypad-protocol.md.
"""

from __future__ import annotations

import binascii
import dataclasses
import struct
from dataclasses import dataclass
from typing import Literal

from evaluator.messages import (
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
    SetBrightness,
    SetVolume,
    ShowMessage,
    ShowStaff,
    ThankYou,
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
    "SetBrightness",
    "SetVolume",
    "ShowMessage",
    "ShowStaff",
    "ThankYou",
    "crc16",
    "encode",
    "fit_utf8",
    "with_seq",
]

SOF = 0xA5
VERSION = 0x01
HEADER_LEN = 6
CRC_LEN = 2
MAX_FRAME = HEADER_LEN + MAX_PAYLOAD + CRC_LEN
_SOF_BYTES = bytes([SOF])

ParseErrorKind = Literal[
    "bad_crc", "oversize", "bad_version", "unknown_type", "bad_payload", "truncated"
]


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF); binascii.crc_hqx is exactly that."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode(msg: Message) -> bytes:
    """The complete frame for ``msg`` (its ``seq`` goes into the header)."""
    payload = msg.payload()
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload is {len(payload)} bytes, the limit is {MAX_PAYLOAD}")
    body = struct.pack("<BBBH", VERSION, int(msg.TYPE), msg.seq, len(payload)) + payload
    return _SOF_BYTES + body + struct.pack("<H", crc16(body))


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

    def __init__(self) -> None:
        self._buf = bytearray()
        self.stats = ParserStats()

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
            total = HEADER_LEN + length + CRC_LEN
            if len(buf) < total:
                if line_idle:
                    detail = f"{len(buf)} of {total} bytes before the line went idle"
                    out.append(self._reject("truncated", detail, 1))
                    continue
                break
            out.append(self._take_frame(bytes(buf[:total])))
        return out

    def _take_frame(self, frame: bytes) -> Message | ParseError:
        received = frame[-2] | (frame[-1] << 8)
        computed = crc16(frame[1:-2])
        if received != computed:
            detail = f"crc {received:04x} != {computed:04x}"
            return self._reject("bad_crc", detail, 1)
        # The CRC vouches for the length, so a well-formed frame we cannot use is dropped
        # whole rather than rescanned (its payload could hold a fake start byte).
        version, msg_type, seq = frame[1], frame[2], frame[3]
        total = len(frame)
        if version != VERSION:
            return self._reject("bad_version", f"version {version:#04x}", total)
        if msg_type not in MESSAGE_CLASSES:
            return self._reject("unknown_type", f"type {msg_type:#04x}", total)
        try:
            msg = decode_payload(msg_type, seq, frame[HEADER_LEN:-CRC_LEN])
        except PayloadError as exc:
            return self._reject("bad_payload", f"type {msg_type:#04x}: {exc}", total)
        del self._buf[:total]
        self.stats.pending = len(self._buf)
        self.stats.frames_ok += 1
        self.stats.bytes_ok += total
        return msg
