"""Keypad interface: key events from the customer evaluator, prompts to its display."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

KeypadEventKind = Literal[
    "key", "stray_key", "please_rate", "manual_record", "heartbeat", "fault", "link",
    "window_state",
]
WindowStateName = Literal["open", "closed", "away"]


@dataclass(frozen=True, slots=True)
class KeypadEvent:
    """Something the keypad reported. ``key`` is the key code for kinds "key" and
    "stray_key" (a press that may not be a rating: ``detail`` says why, see
    hal/keypad/rating_gate.py);
    kind "link" reports the serial link going down (up=False) or back (up=True);
    kind "window_state" a staff-side window state key, ``state`` the state it asks for."""

    kind: KeypadEventKind
    t: float
    key: int | None = None
    seq: int | None = None
    detail: str = ""
    up: bool | None = None
    state: WindowStateName | None = None


@dataclass(frozen=True, slots=True)
class StaffCard:
    """What the keypad shows like a desk name badge."""

    name: str
    staff_number: str
    photo_id: str


class Keypad(Protocol):
    """A keypad back-end; the transport is a pyserial URL (device, pty or loop://)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def events(self) -> list[KeypadEvent]:
        """Events received since the last call (non-blocking)."""
        ...

    def show_staff(self, card: StaffCard | None) -> None: ...

    def prompt_rating(self, timeout_s: float) -> None: ...

    def thank_you(self) -> None: ...

    def show_message(self, text: str) -> None: ...

    def clear(self) -> None: ...

    def show_window_state(self, state: WindowStateName, text: str) -> None:
        """Show the window's state to customers (open removes the notice)."""
        ...
