"""What the simulated keypad's screen shows: a pure function of the last screen and a message."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hal.keypad.messages import WINDOW_STATES
from hal.keypad.protocol import (
    Clear,
    Message,
    PromptRating,
    SetBrightness,
    SetVolume,
    ShowMessage,
    ShowStaff,
    ShowWindowState,
    ThankYou,
)


@dataclass(frozen=True, slots=True)
class DisplayState:
    """What the unit has put on the keypad's screen."""

    staff: tuple[str, str, str] | None = None  # (name, staff number, photo id)
    prompt_timeout_s: float | None = None  # set while a rating prompt is shown
    message: str | None = None
    thank_you: bool = False
    brightness: int | None = None
    volume: int | None = None
    # The window state notice customers see: (state name, text); None while open.
    window_state: tuple[str, str] | None = None


def shown(d: DisplayState, msg: Message) -> tuple[DisplayState, str]:
    """The screen after ``msg`` arrives on ``d``, and what to tell the operator ('' for none)."""
    replace = dataclasses.replace
    if isinstance(msg, ShowStaff):
        card = (msg.name, msg.staff_number, msg.photo_id)
        note = f"staff card: {msg.name} / {msg.staff_number} / {msg.photo_id}"
        return replace(d, staff=card if any(card) else None), note
    if isinstance(msg, PromptRating):
        timeout_s = msg.timeout_ds / 10
        return (replace(d, prompt_timeout_s=timeout_s, message=None, thank_you=False),
                f"please rate ({timeout_s:g} s)")
    if isinstance(msg, ThankYou):
        return replace(d, prompt_timeout_s=None, thank_you=True), "thank you"
    if isinstance(msg, Clear):
        return replace(d, prompt_timeout_s=None, message=None, thank_you=False), "cleared"
    if isinstance(msg, ShowMessage):
        return replace(d, message=msg.text), f"message: {msg.text}"
    if isinstance(msg, ShowWindowState):
        name = WINDOW_STATES[msg.state]
        note = f"window state: {name}" + (f" ({msg.text})" if msg.text else "")
        return replace(d, window_state=None if name == "open" else (name, msg.text)), note
    if isinstance(msg, SetBrightness):
        return replace(d, brightness=msg.level), ""
    if isinstance(msg, SetVolume):
        return replace(d, volume=msg.level), ""
    return d, ""
