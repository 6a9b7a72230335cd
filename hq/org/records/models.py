"""What people author at HQ, validated before anything is written (pure).

Every model refuses unknown keys and bounds every field; :func:`check` turns pydantic's
errors into :class:`~hq.org.records.errors.OrgInvalid` lines naming the field and the rule. Limits
mirror what a unit accepts (firmware/config/unit.py, firmware/daemon/roster.py) so that nothing
authored here can produce a config the unit refuses.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hal.badge.uid import BadgeUidError, normalise_badge_uid
from hq.org.records.errors import OrgInvalid, problems_of

DEFAULT_TZ = "Asia/Shanghai"
DEFAULT_SALT = "counterunit"  # firmware RosterConfig.uid_salt's default
MAX_TEMPLATE_DAYS = 400
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


def _blank_none(v: Any) -> Any:
    """Empty cells and form fields mean 'not given'."""
    return None if isinstance(v, str) and not v.strip() else v


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


NodeId = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN,
                               description="Letters, digits, '.', '_', '-'; at most 64."),
                   BeforeValidator(_strip)]
StaffNo = Annotated[str, Field(min_length=1, max_length=32, pattern=ID_PATTERN,
                               description="Staff number (the unit's staff_id); at most 32."),
                    BeforeValidator(_strip)]
Name = Annotated[str, Field(min_length=1, max_length=80, description="Shown to people."),
                 BeforeValidator(_strip)]
OptId = Annotated[NodeId | None, BeforeValidator(_blank_none)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=256)


M = TypeVar("M", bound=BaseModel)


def check(model: type[M], data: Any, prefix: str = "") -> M:
    """``data`` as ``model`` or OrgInvalid naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise OrgInvalid(problems_of(exc, prefix)) from None


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name``; ValueError naming the rule otherwise."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone such as {DEFAULT_TZ}, "
                         f"not {name!r}") from None


class BranchIn(Strict):
    branch_id: NodeId
    name: Name
    tz: str = Field(DEFAULT_TZ, max_length=64,
                    description="IANA time zone its days and shifts are read in.")

    @field_validator("tz")
    @classmethod
    def _zone(cls, v: str) -> str:
        zone_of(v)
        return v


class HallIn(Strict):
    hall_id: NodeId
    branch_id: NodeId
    name: Name


class WindowIn(Strict):
    window_id: NodeId
    hall_id: NodeId
    name: Name


_PHONE_SEPARATORS = str.maketrans("", "", " -().")
PHONE_PATTERN = r"^\+?[0-9]{5,15}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$"
IM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@:+=-]*$"


def _phone(v: Any) -> Any:
    """Spaces, dashes, dots and brackets people type in phone numbers are dropped."""
    v = _blank_none(v)
    return v.strip().translate(_PHONE_SEPARATORS) if isinstance(v, str) else v


def _email(v: Any) -> Any:
    v = _blank_none(v)
    return v.strip() if isinstance(v, str) else v


# How an alert reaches the staff member it is about (hq.alerts recipients kind "staff").
Phone = Annotated[str | None, BeforeValidator(_phone)]
Email = Annotated[str | None, BeforeValidator(_email)]
ImId = Annotated[str | None, BeforeValidator(_email)]


class StaffIn(Strict):
    staff_no: StaffNo
    name: Name
    badge_uid: Annotated[str | None, BeforeValidator(_blank_none)] = Field(
        None, max_length=64, description="As a reader prints it; stored normalised.")
    home_branch_id: OptId = None
    photo_id: OptId = None
    active: bool = Field(True, description="Inactive staff are left out of every roster.")
    phone: Phone = Field(None, description=(
        "Mobile number for SMS alerts: digits with an optional leading + (E.164, e.g. "
        "+8613800000001), 5 to 15 digits; spaces, dashes, dots and brackets are dropped."))
    email: Email = Field(None, max_length=254, description=(
        "E-mail address for alert mail, name@domain."))
    im_id: ImId = Field(None, max_length=128, description=(
        "IM user id or handle (DingTalk userid, WeCom userid, Feishu open_id ...) that the "
        "{im} of an IM channel URL is filled with; letters, digits and _ . @ : + = -."))

    @field_validator("phone")
    @classmethod
    def _phone_rule(cls, v: str | None) -> str | None:
        if v is not None and not re.match(PHONE_PATTERN, v):
            raise ValueError("must be digits with an optional leading + (E.164, e.g. "
                             "+8613800000001), 5 to 15 digits")
        return v

    @field_validator("email")
    @classmethod
    def _email_rule(cls, v: str | None) -> str | None:
        if v is not None and not re.match(EMAIL_PATTERN, v):
            raise ValueError("must be an e-mail address like name@bank.example")
        return v

    @field_validator("im_id")
    @classmethod
    def _im_rule(cls, v: str | None) -> str | None:
        if v is not None and not re.match(IM_PATTERN, v):
            raise ValueError("must be an IM user id: letters, digits and _ . @ : + = - "
                             "(no spaces)")
        return v

    @field_validator("badge_uid")
    @classmethod
    def _uid(cls, v: str | None) -> str | None:
        if v is None:
            return None
        try:
            return normalise_badge_uid(v)
        except BadgeUidError as exc:
            raise ValueError(str(exc)) from None


class _Times(Strict):
    start: dt.time = Field(..., description="Local start, HH:MM.")
    end: dt.time = Field(..., description="Local end, HH:MM, after start (same day).")

    @model_validator(mode="after")
    def _order(self) -> _Times:
        if self.end <= self.start:
            raise ValueError(f"end {self.end:%H:%M} must be after start {self.start:%H:%M} "
                             "(shifts end the day they start)")
        return self


class ShiftIn(_Times):
    """One dated shift at a window, in the window's branch time zone."""

    shift_id: OptId = None
    window_id: NodeId
    staff_no: StaffNo
    date: dt.date


def split_days(v: Any) -> Any:
    """``"mon, tue;fri"`` from a form or a spreadsheet cell -> ``("mon", "tue", "fri")``;
    anything else is left for the field's own validation."""
    if isinstance(v, str):
        return tuple(d.strip().lower() for d in v.replace(";", ",").split(",") if d.strip())
    return v


class WeeklyShiftIn(_Times):
    """A weekly template: these weekdays, these hours, between two dates (inclusive)."""

    template_id: OptId = None
    window_id: NodeId
    staff_no: StaffNo
    days: tuple[Day, ...] = Field(..., min_length=1, max_length=7)
    valid_from: dt.date
    valid_to: dt.date

    @field_validator("days", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return split_days(v)

    @model_validator(mode="after")
    def _span(self) -> WeeklyShiftIn:
        days = (self.valid_to - self.valid_from).days
        if days < 0:
            raise ValueError(f"valid_to {self.valid_to} must not be before valid_from "
                             f"{self.valid_from}")
        if days >= MAX_TEMPLATE_DAYS:
            raise ValueError(f"a template spans at most {MAX_TEMPLATE_DAYS} days, "
                             f"this one {days + 1}")
        return self


class LeaveIn(Strict):
    """Leave or away-on-business, in local time of the staff member's home branch.

    A date alone means the whole day: ``start`` at 00:00, ``end`` to the end of that date.
    """

    leave_id: OptId = None
    staff_no: StaffNo
    kind: Literal["leave", "business"]
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    note: str = Field("", max_length=200)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if len(v) == 10:
                return dt.date.fromisoformat(v)
            return dt.datetime.fromisoformat(v.replace(" ", "T"))
        return v

    def local_span(self) -> tuple[dt.datetime, dt.datetime]:
        """Naive local start and end (end exclusive)."""
        def at(v: dt.datetime | dt.date, end: bool) -> dt.datetime:
            if isinstance(v, dt.datetime):
                return v.replace(tzinfo=None)
            return dt.datetime.combine(v + dt.timedelta(days=1 if end else 0), dt.time())
        return at(self.start, False), at(self.end, True)

    @model_validator(mode="after")
    def _order(self) -> LeaveIn:
        start, end = self.local_span()
        if end <= start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        if (end - start).days > 366:
            raise ValueError("one leave spans at most 366 days")
        return self


RulesLevel = Literal["org", "branch", "hall", "window"]
RULE_FIELDS = ("rating_window_s", "off_seat_l1_s", "off_seat_l2_s", "off_seat_l3_s",
               "min_transaction_s")
_Seconds = Annotated[float | None, BeforeValidator(_blank_none)]


class RulesIn(Strict):
    """Rules at one node; a field left out is inherited (org <- branch <- hall <- window)."""

    level: RulesLevel
    node_id: Annotated[str, BeforeValidator(_strip)] = Field(
        "", max_length=64, description="The branch/hall/window id; empty for org.")
    rating_window_s: _Seconds = Field(None, ge=2, le=60, description="Time to press a key.")
    off_seat_l1_s: _Seconds = Field(None, gt=0, le=86400, description="Off seat -> level 1.")
    off_seat_l2_s: _Seconds = Field(None, gt=0, le=86400, description="Off seat -> level 2.")
    off_seat_l3_s: _Seconds = Field(None, gt=0, le=86400, description="Off seat -> level 3.")
    min_transaction_s: _Seconds = Field(None, ge=0, le=300,
                                        description="Shorter visits are not transactions.")

    @model_validator(mode="after")
    def _node(self) -> RulesIn:
        if (self.level == "org") != (self.node_id == ""):
            raise ValueError("node_id must be empty for level org and name the "
                             f"{self.level} otherwise")
        return self


class ZoneIn(Strict):
    """A detection zone of a window's camera (fractions of the frame)."""

    window_id: NodeId
    name: NodeId
    x0: float = Field(..., ge=0, le=1)
    y0: float = Field(..., ge=0, le=1)
    x1: float = Field(..., ge=0, le=1)
    y1: float = Field(..., ge=0, le=1)
    enter_dwell_s: float = Field(2.0, ge=0, le=60, description="Seen this long: present.")
    exit_hold_s: float = Field(8.5, ge=0, le=120,
                               description="Unseen this long: gone (the unit's default 8.5 s); "
                                           "the unit refuses a hold its post-roll does not cover.")

    @model_validator(mode="after")
    def _box(self) -> ZoneIn:
        if not (self.x1 - self.x0 >= 0.05 and self.y1 - self.y0 >= 0.05):
            raise ValueError("zone must have x0 < x1 and y0 < y1, each side at least 0.05")
        return self


class SettingsIn(Strict):
    badge_uid_salt: str = Field(DEFAULT_SALT, min_length=1, max_length=128,
                                description="Must equal roster.uid_salt in the units' "
                                            "unit.toml, or no badge matches.")
