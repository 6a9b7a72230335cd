"""The unit's serial devices in the state machine's terms: what they report as machine
inputs, and the machine's keypad actions as keypad calls."""

from __future__ import annotations

from firmware.config.unit import UnitConfig
from firmware.daemon.roster import Roster
from firmware.machine.model import (
    Action,
    BadgeTapped,
    Input,
    KeyPressed,
    ManualRecordPressed,
    PleaseRatePressed,
    PromptRating,
    ShowMessage,
    ShowStaff,
    ShowWindowState,
    ThankYou,
    WindowStateRequested,
)
from hal.keypad.base import Keypad, KeypadEvent, StaffCard


def badge_input(uid: str, cfg: UnitConfig, roster: Roster) -> Input:
    """A badge tap: a window state card (docs/window-states.md) or a person."""
    card = cfg.window_states.card_state(uid)
    if card is not None:
        return WindowStateRequested(card, "card", toggle=True)
    uid_hash, staff = roster.lookup(uid)
    return BadgeTapped(uid_hash, staff)


def keypad_input(ev: KeypadEvent) -> Input | tuple[str, dict] | None:
    """A keypad report as a machine input, or as a (type, data) event to record for
    faults and the link going down or up; None for what the machine does not take."""
    if ev.kind == "key" and ev.key is not None:
        return KeyPressed(ev.key, ev.seq)
    if ev.kind == "please_rate":
        return PleaseRatePressed()
    if ev.kind == "manual_record":
        return ManualRecordPressed()
    if ev.kind == "window_state" and ev.state is not None:
        return WindowStateRequested(ev.state, "keypad")
    if ev.kind in ("fault", "link"):
        kind = "fault" if ev.kind == "fault" else ("link_up" if ev.up else "link_down")
        return "keypad_" + kind, {"detail": ev.detail}
    return None


def drive_keypad(keypad: Keypad, action: Action, cfg: UnitConfig) -> None:
    """Carry out a keypad action of the machine's (other actions are not the keypad's)."""
    if isinstance(action, ShowStaff):
        s = action.staff
        keypad.show_staff(StaffCard(s.name, s.staff_number, s.photo_id) if s else None)
    elif isinstance(action, PromptRating):
        keypad.prompt_rating(action.timeout_s)
    elif isinstance(action, ThankYou):
        keypad.thank_you()
    elif isinstance(action, ShowMessage):
        keypad.show_message(action.text)
    elif isinstance(action, ShowWindowState):
        keypad.show_window_state(action.state, cfg.window_states.text_for(action.state))
