"""Who hears of an alert, how, and when: the policy document and its resolution.

One document for the organisation: named channels (apprise URLs), a default policy and
overrides per branch or hall. For a thread of kind K at level L in hall H of branch B
the most specific scope that says something about level L of K wins (hall, then branch,
then the default; within a scope K before ``*``), together with that entry's quiet hours.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hq.alerts.signals import MAX_LEVEL

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
PLACEHOLDERS = ("email", "phone", "im", "username")
Role = Literal["admin", "branch_manager", "hall_supervisor", "auditor", "viewer"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(Strict):
    """A way to reach people: one apprise URL."""

    url: str = Field(..., min_length=3, max_length=2000, description=(
        "An apprise URL (mailto://, json://, hmac://, smseagle://, dingtalk://, wecombot://, "
        "feishu://, slack://, workflows://, ...). {email}, {phone}, {im} or {username} in it "
        "make it personal: one message per recipient with that field; without them it is a "
        "group channel (one message per level)."))
    description: str = Field("", max_length=200, description="What this channel is, for people.")

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if "://" not in v:
            raise ValueError("must be an apprise URL like scheme://...")
        for name in re.findall(r"\{([^}]*)\}", v):
            if name not in PLACEHOLDERS:
                raise ValueError(f"placeholder {{{name}}} must be one of {PLACEHOLDERS}")
        return v

    def personal(self) -> tuple[str, ...]:
        """The recipient fields the URL needs (empty for a group channel)."""
        return tuple(p for p in PLACEHOLDERS if "{" + p + "}" in self.url)


class Address(Strict):
    """Someone who is not an HQ user (a duty phone, a shared mailbox)."""

    name: str = Field(..., min_length=1, max_length=100, description="Who this is.")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$",
                              description="E-mail address.")
    phone: str | None = Field(None, pattern=r"^\+?[0-9]{5,20}$", description="Phone number.")
    im: str | None = Field(None, max_length=200, description="IM account id.")


class Recipients(Strict):
    """People of a level: the staff member the alert is about, by role in the thread's
    scope, by name, or by address."""

    staff: bool = Field(False, description=(
        "The staff member the alert is about (the thread's staff number), reached at the "
        "phone, email or im_id of their record in the organisation's staff list. A personal "
        "channel they have no contact for is recorded as a skipped delivery with the "
        "reason; a thread naming no staff member (a disk or silent-unit alert) has none."))
    roles: list[Role] = Field(default_factory=list, max_length=6, description=(
        "Users with this role whose scope covers the thread's window."))
    users: list[str] = Field(default_factory=list, max_length=100,
                             description="HQ usernames, wherever their scope is.")
    addresses: list[Address] = Field(default_factory=list, max_length=100,
                                     description="Explicit addresses.")


class LevelPolicy(Strict):
    """What happens when a thread reaches one level."""

    channels: list[str] = Field(default_factory=list, max_length=20, description=(
        "Names of channels to use (the dashboard is always used as well)."))
    recipients: Recipients = Field(default_factory=lambda: Recipients.model_validate({}),
                                     description="Who is told.")
    plan: str = Field("", max_length=4000, description=(
        "The emergency plan shown with the alert at this level (seed function 21)."))
    escalate_after_min: int | None = Field(None, ge=1, le=1440, description=(
        "Not acknowledged within this many minutes: HQ raises the thread one level."))
    during_quiet: Literal["defer", "send"] = Field("defer", description=(
        "In quiet hours: hold messages until they end (dropped if the episode is over by "
        "then), or send anyway."))


class QuietHours(Strict):
    """A daily span in the branch's time zone (may run past midnight)."""

    start: str = Field(..., pattern=_HHMM, description="HH:MM local time quiet hours begin.")
    end: str = Field(..., pattern=_HHMM, description="HH:MM local time they end.")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end must differ")
        return self


class KindPolicy(Strict):
    """Levels of one alert kind (or ``*``) in one scope."""

    levels: dict[int, LevelPolicy] = Field(default_factory=dict, description=(
        "Level (1..3) to what it does."))
    quiet_hours: QuietHours | None = Field(None, description="When messages wait.")

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: dict[int, LevelPolicy]) -> dict[int, LevelPolicy]:
        for level in v:
            if not 1 <= level <= MAX_LEVEL:
                raise ValueError(f"level {level} must be 1..{MAX_LEVEL}")
        return v


class ScopePolicy(Strict):
    """Kinds (``off_seat``, ``disk``, ``silent``, ..., or ``*`` for any) to their policy."""

    kinds: dict[str, KindPolicy] = Field(default_factory=dict, max_length=20,
                                         description="Alert kind or * to its policy.")


class Retry(Strict):
    """How the outbox retries a channel that fails."""

    first_s: float = Field(5.0, ge=0.1, le=600, description="Wait after the first failure.")
    max_s: float = Field(120.0, ge=1, le=3600, description="Longest wait between attempts.")
    give_up_min: float = Field(360.0, ge=1, le=10080, description=(
        "A delivery still failing this long after it was due is marked failed."))


class PolicyDoc(Strict):
    """The whole alert policy of the organisation (stored with versions)."""

    hq_url: str = Field("https://localhost:8443", max_length=300, pattern=r"^https?://",
                        description="HQ's address as people reach it (links in messages).")
    channels: dict[str, Channel] = Field(default_factory=dict, max_length=50,
                                         description="Channel name to channel.")
    default: ScopePolicy = Field(default_factory=ScopePolicy,
                                 description="The organisation's policy.")
    branches: dict[str, ScopePolicy] = Field(default_factory=dict, max_length=2000,
                                             description="Branch id to its override.")
    halls: dict[str, ScopePolicy] = Field(default_factory=dict, max_length=10000,
                                          description="Hall id to its override.")
    language: Literal["en", "zh-CN"] = Field("en", description=(
        "Language of messages to group channels and addresses (HQ users get their own)."))
    silent_after_min: float = Field(30.0, ge=1, le=1440, description=(
        "A bound unit not heard from for this long opens a 'silent' thread."))
    retry: Retry = Field(default_factory=lambda: Retry.model_validate({}),
                        description="Retries of failing channels.")

    @model_validator(mode="after")
    def _channels_exist(self) -> PolicyDoc:
        scopes = [("default", self.default)]
        scopes += [(f"branches.{k}", v) for k, v in self.branches.items()]
        scopes += [(f"halls.{k}", v) for k, v in self.halls.items()]
        for where, sp in scopes:
            for kind, kp in sp.kinds.items():
                for level, lp in kp.levels.items():
                    for name in lp.channels:
                        if name not in self.channels:
                            raise ValueError(f"{where}.kinds.{kind}.levels.{level}.channels: "
                                             f"no channel named {name!r}")
        for name in self.channels:
            if not re.match(_NAME, name):
                raise ValueError(f"channels.{name}: name must match {_NAME}")
        return self


@dataclass(frozen=True)
class Resolved:
    """The policy of one level for one thread."""

    level: LevelPolicy
    quiet_hours: QuietHours | None
    source: str  # e.g. "halls.H1.kinds.off_seat", for the page


def resolve(doc: PolicyDoc, kind: str, level: int, branch_id: str | None,
            hall_id: str | None) -> Resolved | None:
    """The most specific policy of ``level`` for a ``kind`` thread in that hall/branch."""
    scopes: list[tuple[str, ScopePolicy]] = []
    if hall_id is not None and hall_id in doc.halls:
        scopes.append((f"halls.{hall_id}", doc.halls[hall_id]))
    if branch_id is not None and branch_id in doc.branches:
        scopes.append((f"branches.{branch_id}", doc.branches[branch_id]))
    scopes.append(("default", doc.default))
    for where, sp in scopes:
        for k in (kind, "*"):
            kp = sp.kinds.get(k)
            if kp is not None and level in kp.levels:
                return Resolved(kp.levels[level], kp.quiet_hours, f"{where}.kinds.{k}")
    return None


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def quiet_until(now: dt.datetime, tz: str, quiet: QuietHours | None) -> dt.datetime | None:
    """When the quiet hours that ``now`` falls in end (UTC), or None outside them."""
    if quiet is None:
        return None
    local = now.astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute + local.second / 60
    start, end = _minutes(quiet.start), _minutes(quiet.end)
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    end_day = local.date() if minute < end else local.date() + dt.timedelta(days=1)
    end_local = dt.datetime.combine(end_day, dt.time(end // 60, end % 60), ZoneInfo(tz))
    return end_local.astimezone(dt.UTC)


def backoff(attempts: int, retry: Retry) -> dt.timedelta:
    """Wait after ``attempts`` failed attempts: doubling from ``first_s`` up to ``max_s``."""
    return dt.timedelta(seconds=min(retry.first_s * 2 ** max(attempts - 1, 0), retry.max_s))
