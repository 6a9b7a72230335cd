"""Timed badge taps and key presses for replay (``--script``), as input back-ends.

A script is JSON lines: ``{"t": 12.0, "badge": "04A1B2"}``, ``{"t": 60.5, "key": 4}``,
``{"t": 30, "please_rate": true}``, ``{"t": 40, "manual_record": true}``,
``{"t": 50, "window_state": "closed"}`` (a staff-side window state key). Items
are delivered once the unit's clock (media time) reaches ``t``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hal.badge.base import BadgeRead
from hal.keypad.base import KeypadEvent, StaffCard, WindowStateName


class ScriptError(ValueError):
    """A script line is not valid; the message names the file, line and problem."""


class ScriptItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    t: float = Field(..., ge=0, le=7 * 86400, description="Media time in seconds.")
    badge: str | None = Field(None, min_length=1, max_length=64, description="Badge UID.")
    key: int | None = Field(None, ge=0, le=255, description="Keypad key code.")
    please_rate: bool = Field(False, description="Staff 'please rate' key.")
    manual_record: bool = Field(False, description="Staff manual-record key.")
    window_state: Literal["open", "closed", "away"] | None = Field(
        None, description="Staff-side window state key (docs/window-states.md).")

    @model_validator(mode="after")
    def _one_thing(self) -> ScriptItem:
        n = sum([self.badge is not None, self.key is not None, self.please_rate,
                 self.manual_record, self.window_state is not None])
        if n != 1:
            raise ValueError("each line needs exactly one of badge, key, please_rate, "
                             "manual_record, window_state")
        return self


def load_script(path: Path) -> list[ScriptItem]:
    """Parse a script file, sorted by time; raises ScriptError naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read: {exc.strerror or exc}") from None
    items = []
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            items.append(ScriptItem.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ScriptError(f"{path}:{n}: not JSON: {exc.msg}") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "line"
            raise ScriptError(f"{path}:{n}: {loc}: {err['msg']}") from None
    return sorted(items, key=lambda i: i.t)


class _Due:
    def __init__(self, items: list[ScriptItem], clock: Callable[[], float]) -> None:
        self._items = items
        self._clock = clock

    def due(self) -> list[ScriptItem]:
        now = self._clock()
        out = [i for i in self._items if i.t <= now]
        self._items = [i for i in self._items if i.t > now]
        return out


class ScriptedBadgeReader(_Due):
    """Badge taps from a script."""

    def __init__(self, items: list[ScriptItem], clock: Callable[[], float]) -> None:
        super().__init__([i for i in items if i.badge is not None], clock)

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reads(self) -> list[BadgeRead]:
        return [BadgeRead(i.badge or "", i.t) for i in self.due()]


class ScriptedKeypad(_Due):
    """Key presses from a script; what the unit shows is kept in ``shown``."""

    def __init__(self, items: list[ScriptItem], clock: Callable[[], float]) -> None:
        super().__init__([i for i in items if i.badge is None], clock)
        self.shown: list[tuple[str, object]] = []

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def events(self) -> list[KeypadEvent]:
        out = []
        for i in self.due():
            if i.window_state is not None:
                out.append(KeypadEvent("window_state", i.t, state=i.window_state))
                continue
            kind: Literal["key", "please_rate", "manual_record"] = (
                "key" if i.key is not None else "please_rate" if i.please_rate
                else "manual_record")
            out.append(KeypadEvent(kind, i.t, key=i.key))
        return out

    def show_staff(self, card: StaffCard | None) -> None:
        self.shown.append(("staff", card))

    def prompt_rating(self, timeout_s: float) -> None:
        self.shown.append(("prompt", timeout_s))

    def thank_you(self) -> None:
        self.shown.append(("thank_you", None))

    def show_message(self, text: str) -> None:
        self.shown.append(("message", text))

    def clear(self) -> None:
        self.shown.append(("clear", None))

    def show_window_state(self, state: WindowStateName, text: str) -> None:
        self.shown.append(("window_state", (state, text)))
