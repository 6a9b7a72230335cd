"""``[window_states]`` and ``[[schedule.states]]``: how a window becomes closed or away
(docs/window-states.md).

A *state card* is a card from the same batch as staff badges, kept at the window and
tapped on the badge reader like a badge: tapping the "closed" card closes the window,
tapping it again opens it. Its UID is written here in clear (it is not anybody's
credential: whoever holds it can do no more than the keypad's own state keys).
``schedule.states`` are HQ's planned periods (lunch closures, a business trip), pushed in
the schedule section of HQ's config like the opening hours.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from firmware.config.base import Strict
from hal.badge.uid import BadgeUidError, normalise_badge_uid

WindowState = Literal["open", "closed", "away"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

DEFAULT_TEXTS: dict[str, str] = {
    "open": "",
    "closed": "暂停服务 Temporarily closed",
    "away": "外出办公 Away on business",
}


class StateCard(Strict):
    uid: str = Field(..., min_length=4, max_length=40,
                     description="The card's UID as the reader prints it.")
    state: WindowState = Field(..., description="The state a tap sets (a second tap: open).")

    @field_validator("uid")
    @classmethod
    def _uid(cls, v: str) -> str:
        try:
            return normalise_badge_uid(v)
        except BadgeUidError as exc:
            raise ValueError(str(exc)) from None


class WindowStatesConfig(Strict):
    cards: tuple[StateCard, ...] = Field(
        (), max_length=8, description="State cards tapped on the badge reader.")
    closed_text: str = Field(DEFAULT_TEXTS["closed"], max_length=32,
                             description="Shown to customers while closed (keypad).")
    away_text: str = Field(DEFAULT_TEXTS["away"], max_length=32,
                           description="Shown to customers while away on business (keypad).")

    @model_validator(mode="after")
    def _distinct_cards(self) -> WindowStatesConfig:
        uids = [c.uid for c in self.cards]
        if len(uids) != len(set(uids)):
            raise ValueError("cards: each card UID may appear once")
        return self

    def text_for(self, state: str) -> str:
        """What the keypad shows customers in ``state``."""
        return {"closed": self.closed_text, "away": self.away_text}.get(state, "")

    def card_state(self, uid: str) -> WindowState | None:
        """The state a tapped UID stands for, or None if it is not a state card."""
        try:
            norm = normalise_badge_uid(uid)
        except BadgeUidError:
            return None
        return next((c.state for c in self.cards if c.uid == norm), None)


class StatePeriod(Strict):
    """A planned closed or away period in local time: weekly (``days``) or on one ``date``."""

    state: Literal["closed", "away"] = Field(..., description="The state during the period.")
    days: tuple[Day, ...] = Field((), max_length=7, description="Weekdays (weekly period).")
    date: dt.date | None = Field(None, description="One local date (a dated period).")
    start: dt.time = Field(..., description="Local start time, HH:MM.")
    end: dt.time = Field(..., description="Local end time, HH:MM (after start).")
    note: str = Field("", max_length=64, description="Why (shown nowhere but the event).")

    @model_validator(mode="after")
    def _when(self) -> StatePeriod:
        if bool(self.days) == (self.date is not None):
            raise ValueError("give either days (weekly) or date (one day), not both or neither")
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self
