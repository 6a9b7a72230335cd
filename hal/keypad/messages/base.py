"""What every keypad message shares: the type and status bytes, field limits, the base class.

Pure: no I/O (docs/keypad-protocol.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Self

from hal.keypad.fields import Reader, check_int

MAX_PAYLOAD = 256
NAME_MAX_BYTES = 96
STAFF_NUMBER_MAX_BYTES = 32
PHOTO_ID_MAX_BYTES = 64
TEXT_MAX_BYTES = 200
STATE_TEXT_MAX_BYTES = 96
# Window state codes on the wire (docs/keypad-protocol.md, section 5.4).
WINDOW_STATES: dict[int, str] = {1: "open", 2: "closed", 3: "away"}
STATE_CODES: dict[str, int] = {name: code for code, name in WINDOW_STATES.items()}


class MsgType(IntEnum):
    """Message type byte. 0x01-0x7F unit -> keypad, 0x80-0xEF keypad -> unit, 0xF0+ both."""

    SHOW_STAFF = 0x01
    PROMPT_RATING = 0x02
    THANK_YOU = 0x03
    CLEAR = 0x04
    SHOW_MESSAGE = 0x05
    SET_BRIGHTNESS = 0x06
    SET_VOLUME = 0x07
    PING = 0x08
    SHOW_WINDOW_STATE = 0x09
    KEY = 0x81
    PLEASE_RATE = 0x82
    MANUAL_RECORD = 0x83
    HEARTBEAT = 0x84
    FAULT = 0x85
    PONG = 0x86
    RATING_KEY = 0x87
    WINDOW_STATE_KEY = 0x88
    ACK = 0xF0


class AckStatus(IntEnum):
    """ACK status byte; receivers must accept (and count) values they do not know."""

    OK = 0
    UNSUPPORTED = 1
    BAD_PARAMETER = 2
    BUSY = 3


@dataclass(frozen=True, slots=True)
class BaseMsg:
    """Common part: the header's sequence number, validation, empty payload by default."""

    TYPE: ClassVar[MsgType]
    seq: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        check_int("seq", self.seq, 0, 255)
        self._check()

    def _check(self) -> None:
        """Field range checks of a message type with fields."""

    def payload(self) -> bytes:
        return b""

    @classmethod
    def parse(cls, r: Reader, seq: int) -> Self:
        return cls(seq=seq)


# --- both directions --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ack(BaseMsg):
    """Receipt for the frame with sequence ``acked_seq``; ``status`` is an AckStatus value."""

    TYPE: ClassVar[MsgType] = MsgType.ACK
    acked_seq: int
    status: int = AckStatus.OK

    def _check(self) -> None:
        check_int("acked_seq", self.acked_seq, 0, 255)
        check_int("status", int(self.status), 0, 255)

    def payload(self) -> bytes:
        return bytes([self.acked_seq, int(self.status)])

    @classmethod
    def parse(cls, r: Reader, seq: int) -> Ack:
        return cls(r.u8(), r.u8(), seq=seq)
