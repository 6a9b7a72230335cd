"""Keypad wire messages: one frozen dataclass per message type and its payload codec.

Pure: no I/O. Field ranges are checked when a message is built, so an out-of-range
message can neither be sent nor come out of the parser. ``seq`` is the sender's frame
sequence number from the frame header (see docs/keypad-protocol.md).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Self

from evaluator.fields import (
    PayloadError,
    ProtocolError,
    Reader,
    check_int,
    check_text,
    fit_utf8,
    str8,
)

__all__ = ["PayloadError", "ProtocolError", "fit_utf8"]

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
class _Msg:
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


# --- unit -> keypad -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowStaff(_Msg):
    """Show the logged-in staff member; all three fields empty means nobody is logged in."""

    TYPE: ClassVar[MsgType] = MsgType.SHOW_STAFF
    name: str
    staff_number: str
    photo_id: str

    def _check(self) -> None:
        check_text("name", self.name, NAME_MAX_BYTES)
        check_text("staff_number", self.staff_number, STAFF_NUMBER_MAX_BYTES)
        check_text("photo_id", self.photo_id, PHOTO_ID_MAX_BYTES)

    def payload(self) -> bytes:
        return str8(self.name) + str8(self.staff_number) + str8(self.photo_id)

    @classmethod
    def parse(cls, r: Reader, seq: int) -> ShowStaff:
        return cls(r.str8(), r.str8(), r.str8(), seq=seq)


@dataclass(frozen=True, slots=True)
class PromptRating(_Msg):
    """Ask the customer to rate; the keypad drops the prompt after ``timeout_ds`` tenths of s."""

    TYPE: ClassVar[MsgType] = MsgType.PROMPT_RATING
    timeout_ds: int

    def _check(self) -> None:
        check_int("timeout_ds", self.timeout_ds, 1, 0xFFFF)

    def payload(self) -> bytes:
        return struct.pack("<H", self.timeout_ds)

    @classmethod
    def parse(cls, r: Reader, seq: int) -> PromptRating:
        return cls(r.u16(), seq=seq)


@dataclass(frozen=True, slots=True)
class ThankYou(_Msg):
    """Show "thank you" (ends any prompt)."""

    TYPE: ClassVar[MsgType] = MsgType.THANK_YOU


@dataclass(frozen=True, slots=True)
class Clear(_Msg):
    """Remove prompt, message and "thank you"; the staff card stays."""

    TYPE: ClassVar[MsgType] = MsgType.CLEAR


@dataclass(frozen=True, slots=True)
class ShowMessage(_Msg):
    """Show a free text line (until CLEAR, a prompt or another message)."""

    TYPE: ClassVar[MsgType] = MsgType.SHOW_MESSAGE
    text: str

    def _check(self) -> None:
        check_text("text", self.text, TEXT_MAX_BYTES)

    def payload(self) -> bytes:
        return str8(self.text)

    @classmethod
    def parse(cls, r: Reader, seq: int) -> ShowMessage:
        return cls(r.str8(), seq=seq)


@dataclass(frozen=True, slots=True)
class _Percent(_Msg):
    """A one-byte setting in percent."""

    level: int

    def _check(self) -> None:
        check_int("level", self.level, 0, 100)

    def payload(self) -> bytes:
        return bytes([self.level])

    @classmethod
    def parse(cls, r: Reader, seq: int) -> Self:
        return cls(r.u8(), seq=seq)


@dataclass(frozen=True, slots=True)
class SetBrightness(_Percent):
    """Display brightness in percent."""

    TYPE: ClassVar[MsgType] = MsgType.SET_BRIGHTNESS


@dataclass(frozen=True, slots=True)
class SetVolume(_Percent):
    """Prompt sound volume in percent (0 mutes)."""

    TYPE: ClassVar[MsgType] = MsgType.SET_VOLUME


@dataclass(frozen=True, slots=True)
class Ping(_Msg):
    """Liveness probe; the keypad answers PONG."""

    TYPE: ClassVar[MsgType] = MsgType.PING


@dataclass(frozen=True, slots=True)
class ShowWindowState(_Msg):
    """Show the window's state to customers (version 2): ``state`` a WINDOW_STATES code,
    ``text`` the line under it (e.g. "back at 14:30"; may be empty). State 1 (open)
    removes the notice and shows the staff card again."""

    TYPE: ClassVar[MsgType] = MsgType.SHOW_WINDOW_STATE
    state: int
    text: str = ""

    def _check(self) -> None:
        check_int("state", self.state, 1, max(WINDOW_STATES))
        check_text("text", self.text, STATE_TEXT_MAX_BYTES)

    def payload(self) -> bytes:
        return bytes([self.state]) + str8(self.text)

    @classmethod
    def parse(cls, r: Reader, seq: int) -> ShowWindowState:
        return cls(r.u8(), r.str8(), seq=seq)


# --- keypad -> unit -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key(_Msg):
    """A customer key press; ``key`` is the key's code (the unit maps codes to ratings)."""

    TYPE: ClassVar[MsgType] = MsgType.KEY
    key: int

    def _check(self) -> None:
        check_int("key", self.key, 1, 255)

    def payload(self) -> bytes:
        return bytes([self.key])

    @classmethod
    def parse(cls, r: Reader, seq: int) -> Key:
        return cls(r.u8(), seq=seq)


@dataclass(frozen=True, slots=True)
class PleaseRate(_Msg):
    """Staff pressed the "please rate" key."""

    TYPE: ClassVar[MsgType] = MsgType.PLEASE_RATE


@dataclass(frozen=True, slots=True)
class ManualRecord(_Msg):
    """Staff pressed the "record" key (start a clip by hand)."""

    TYPE: ClassVar[MsgType] = MsgType.MANUAL_RECORD


@dataclass(frozen=True, slots=True)
class Heartbeat(_Msg):
    """Sent every second by the keypad; ``uptime_s`` since its power-on."""

    TYPE: ClassVar[MsgType] = MsgType.HEARTBEAT
    uptime_s: int

    def _check(self) -> None:
        check_int("uptime_s", self.uptime_s, 0, 0xFFFFFFFF)

    def payload(self) -> bytes:
        return struct.pack("<I", self.uptime_s)

    @classmethod
    def parse(cls, r: Reader, seq: int) -> Heartbeat:
        return cls(r.u32(), seq=seq)


@dataclass(frozen=True, slots=True)
class Fault(_Msg):
    """The keypad reports a problem of its own (display, buzzer, stuck key...)."""

    TYPE: ClassVar[MsgType] = MsgType.FAULT
    code: int
    text: str

    def _check(self) -> None:
        check_int("code", self.code, 0, 0xFFFF)
        check_text("text", self.text, TEXT_MAX_BYTES)

    def payload(self) -> bytes:
        return struct.pack("<H", self.code) + str8(self.text)

    @classmethod
    def parse(cls, r: Reader, seq: int) -> Fault:
        return cls(r.u16(), r.str8(), seq=seq)


@dataclass(frozen=True, slots=True)
class Pong(_Msg):
    """Answer to PING; ``ping_seq`` is the PING frame's sequence number."""

    TYPE: ClassVar[MsgType] = MsgType.PONG
    ping_seq: int

    def _check(self) -> None:
        check_int("ping_seq", self.ping_seq, 0, 255)

    def payload(self) -> bytes:
        return bytes([self.ping_seq])

    @classmethod
    def parse(cls, r: Reader, seq: int) -> Pong:
        return cls(r.u8(), seq=seq)


@dataclass(frozen=True, slots=True)
class RatingKey(_Msg):
    """A key pressed while a rating prompt was on screen (version-2 keypads): ``key`` is
    the key's code, ``prompt_seq`` the sequence number of the PROMPT_RATING it answers.

    On the wire the key code goes twice, the second time inverted (u8 key, u8 key ^ 0xFF,
    u8 prompt_seq): a frame whose check collided by accident still has to get both right.
    """

    TYPE: ClassVar[MsgType] = MsgType.RATING_KEY
    key: int
    prompt_seq: int

    def _check(self) -> None:
        check_int("key", self.key, 1, 255)
        check_int("prompt_seq", self.prompt_seq, 0, 255)

    def payload(self) -> bytes:
        return bytes([self.key, self.key ^ 0xFF, self.prompt_seq])

    @classmethod
    def parse(cls, r: Reader, seq: int) -> RatingKey:
        key, inverted, prompt_seq = r.u8(), r.u8(), r.u8()
        if inverted != key ^ 0xFF:
            raise PayloadError(f"key {key} and its inverse {inverted:#04x} disagree")
        return cls(key, prompt_seq, seq=seq)


@dataclass(frozen=True, slots=True)
class WindowStateKey(_Msg):
    """A staff-side window state key (version 2): ``state`` a WINDOW_STATES code.

    Sent twice on the wire, the second time inverted (u8 state, u8 state ^ 0xFF), like
    RATING_KEY's key code, so a frame whose CRC collided still cannot change the state."""

    TYPE: ClassVar[MsgType] = MsgType.WINDOW_STATE_KEY
    state: int

    def _check(self) -> None:
        check_int("state", self.state, 1, max(WINDOW_STATES))

    def payload(self) -> bytes:
        return bytes([self.state, self.state ^ 0xFF])

    @classmethod
    def parse(cls, r: Reader, seq: int) -> WindowStateKey:
        state, inverted = r.u8(), r.u8()
        if inverted != state ^ 0xFF:
            raise PayloadError(f"state {state} and its inverse {inverted:#04x} disagree")
        return cls(state, seq=seq)


# --- both directions --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ack(_Msg):
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


Message = (
    ShowStaff
    | PromptRating
    | ThankYou
    | Clear
    | ShowMessage
    | SetBrightness
    | SetVolume
    | Ping
    | ShowWindowState
    | Key
    | PleaseRate
    | ManualRecord
    | Heartbeat
    | Fault
    | Pong
    | RatingKey
    | WindowStateKey
    | Ack
)

MESSAGE_CLASSES: dict[int, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        ShowStaff,
        PromptRating,
        ThankYou,
        Clear,
        ShowMessage,
        SetBrightness,
        SetVolume,
        Ping,
        ShowWindowState,
        Key,
        PleaseRate,
        ManualRecord,
        Heartbeat,
        Fault,
        Pong,
        RatingKey,
        WindowStateKey,
        Ack,
    )
}

UNIT_TO_KEYPAD: frozenset[int] = frozenset(t for t in MESSAGE_CLASSES if t < 0x80) | {MsgType.ACK}
KEYPAD_TO_UNIT: frozenset[int] = frozenset(t for t in MESSAGE_CLASSES if t >= 0x80)


def decode_payload(msg_type: int, seq: int, payload: bytes) -> Message:
    """Build the message for a known type; raises PayloadError on a malformed payload."""
    cls = MESSAGE_CLASSES[msg_type]
    reader = Reader(payload)
    try:
        msg = cls.parse(reader, seq)
    except ProtocolError as exc:
        raise PayloadError(str(exc)) from None
    reader.end()
    return msg
