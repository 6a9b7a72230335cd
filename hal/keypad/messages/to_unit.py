"""Messages the keypad sends to the unit (type bytes 0x80-0xEF)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from hal.keypad.fields import PayloadError, Reader, check_int, check_text, str8
from hal.keypad.messages.base import TEXT_MAX_BYTES, WINDOW_STATES, BaseMsg, MsgType


@dataclass(frozen=True, slots=True)
class Key(BaseMsg):
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
class PleaseRate(BaseMsg):
    """Staff pressed the "please rate" key."""

    TYPE: ClassVar[MsgType] = MsgType.PLEASE_RATE


@dataclass(frozen=True, slots=True)
class ManualRecord(BaseMsg):
    """Staff pressed the "record" key (start a clip by hand)."""

    TYPE: ClassVar[MsgType] = MsgType.MANUAL_RECORD


@dataclass(frozen=True, slots=True)
class Heartbeat(BaseMsg):
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
class Fault(BaseMsg):
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
class Pong(BaseMsg):
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
class RatingKey(BaseMsg):
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
class WindowStateKey(BaseMsg):
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
