"""From "level L of thread T" to the deliveries it means: pure, so it is table-tested.

One delivery per (thread, level, channel, recipient), named by an idempotency key, so
expanding the same level twice (a restart, a unit resending) makes no second message.
The dashboard is always one of them; it needs no sending. A staff member the policy names
but a personal channel cannot reach (no phone for SMS ...) gets a *skipped* delivery
carrying the reason, recorded once and never sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from hq.alerts.policy import PolicyDoc, Resolved
from hq.alerts.recipients import Person, missing_reason

DASHBOARD = "dashboard"
GROUP = "group"


@dataclass(frozen=True)
class Planned:
    """One message to send (or, for the dashboard, already shown)."""

    idem_key: str
    channel: str
    recipient: str
    url: str
    language: str = "en"
    skipped: str = ""  # not sent, and why (a staff member with no contact for the channel)


def idem_key(thread_id: int, level: int, channel: str, recipient: str) -> str:
    """The delivery's identity: the same inputs always give the same key."""
    text = f"{thread_id}|{level}|{channel}|{recipient}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def fill(url: str, person: Person, fields: tuple[str, ...]) -> str | None:
    """``url`` with the person's fields in place, or None if one is missing."""
    out = url
    for name in fields:
        value = person.field(name)
        if value is None:
            return None
        out = out.replace("{" + name + "}", quote(value, safe="@+"))
    return out


def plan(thread_id: int, level: int, doc: PolicyDoc, resolved: Resolved | None,
         who: list[Person]) -> list[Planned]:
    """Every delivery of one level, the dashboard first."""
    out = [Planned(idem_key(thread_id, level, DASHBOARD, DASHBOARD), DASHBOARD, DASHBOARD,
                   "", doc.language)]
    if resolved is None:
        return out
    for name in resolved.level.channels:
        channel = doc.channels[name]
        fields = channel.personal()
        if not fields:
            out.append(Planned(idem_key(thread_id, level, name, GROUP), name, GROUP,
                               channel.url, doc.language))
            continue
        for person in who:
            url = fill(channel.url, person, fields)
            key = idem_key(thread_id, level, name, person.key)
            language = person.language or doc.language
            if url is not None:
                out.append(Planned(key, name, person.key, url, language))
            elif person.report_missing:
                lacking = next(f for f in fields if person.field(f) is None)
                out.append(Planned(key, name, person.key, "", language,
                                   missing_reason(person, lacking)))
    return out
