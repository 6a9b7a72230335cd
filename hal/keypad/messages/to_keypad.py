"""Messages the unit sends to the keypad (type bytes 0x01-0x7F)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from hal.keypad.fields import Reader, check_int, check_text, str8
from hal.keypad.messages.base import (
    NAME_MAX_BYTES,
    PHOTO_ID_MAX_BYTES,
    STAFF_NUMBER_MAX_BYTES,
    STATE_TEXT_MAX_BYTES,
    TEXT_MAX_BYTES,
    WINDOW_STATES,
    BaseMsg,
    MsgType,
)


@dataclass(frozen=True, slots=True)
class ShowStaff(BaseMsg):
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
class PromptRating(BaseMsg):
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
class ThankYou(BaseMsg):
    """Show "thank you" (ends any prompt)."""

    TYPE: ClassVar[MsgType] = MsgType.THANK_YOU


@dataclass(frozen=True, slots=True)
class Clear(BaseMsg):
    """Remove prompt, message and "thank you"; the staff card stays."""

    TYPE: ClassVar[MsgType] = MsgType.CLEAR


@dataclass(frozen=True, slots=True)
class ShowMessage(BaseMsg):
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
class _Percent(BaseMsg):
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
class Ping(BaseMsg):
    """Liveness probe; the keypad answers PONG."""

    TYPE: ClassVar[MsgType] = MsgType.PING


@dataclass(frozen=True, slots=True)
class ShowWindowState(BaseMsg):
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
