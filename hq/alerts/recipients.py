"""Who the people of a policy are: the staff member an alert is about, HQ users by role in
scope, by name, or addresses.

:class:`RecipientDirectory` is what the planner needs; :class:`UsersDirectory` reads HQ's
user store (roles scoped to branches/halls, contact fields), :class:`StaticDirectory`
holds a fixed list (tests, and HQs without user accounts). The staff member is no HQ
user: :func:`staff_person` reads their contacts from ``org_staff`` in events.db.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from hq.alerts.policy import Recipients
from hq.storage.org_schema import STAFF_CONTACT_COLUMNS

STAFF_PREFIX = "staff:"
# What a channel placeholder asks of a person, in words for a skipped delivery's reason.
FIELD_WORDS = {"email": "e-mail address", "phone": "phone number", "im": "IM id",
               "username": "HQ user name"}


@dataclass(frozen=True)
class Person:
    """Someone a message can reach; ``key`` identifies them across levels and channels."""

    key: str
    name: str
    email: str | None = None
    phone: str | None = None
    im: str | None = None
    language: str | None = None  # None: the policy's language
    # A staff member an alert is about: a channel they cannot be reached on is recorded
    # as a skipped delivery (people on duty chose to be told; users without a contact
    # are left out as before).
    report_missing: bool = False
    listed: bool = True  # False: the staff number is not in the staff list at all

    def field(self, name: str) -> str | None:
        """A contact field (or the username, for ``username``)."""
        if name == "username":
            return self.key.removeprefix("user:") if self.key.startswith("user:") else None
        value = getattr(self, name)
        return value if isinstance(value, str) and value else None


class RecipientDirectory(Protocol):
    """HQ's people, as the alert planner sees them."""

    def in_scope(self, role: str, branch_id: str | None, hall_id: str | None) -> list[Person]:
        """Enabled users of ``role`` whose scope covers that hall of that branch."""
        ...

    def named(self, username: str) -> Person | None:
        """One enabled user, or None."""
        ...


@dataclass(frozen=True)
class Grant:
    """A person with a role on a node: ``all``, ``branch:ID`` or ``hall:ID``."""

    person: Person
    role: str
    scope: str = "all"


def covers(scope: str, branch_id: str | None, hall_id: str | None) -> bool:
    """Whether a grant's scope text covers a thread in that branch and hall."""
    if scope == "all":
        return True
    level, _, node = scope.partition(":")
    return (level == "branch" and node == branch_id) or (level == "hall" and node == hall_id)


class StaticDirectory:
    """A fixed set of grants."""

    def __init__(self, grants: Iterable[Grant]) -> None:
        self.grants = list(grants)

    def in_scope(self, role: str, branch_id: str | None, hall_id: str | None) -> list[Person]:
        return [g.person for g in self.grants
                if g.role == role and covers(g.scope, branch_id, hall_id)]

    def named(self, username: str) -> Person | None:
        return next((g.person for g in self.grants if g.person.key == f"user:{username}"),
                    None)


def _person(user: Any) -> Person:
    contact = getattr(user, "contact", None)
    return Person(key=f"user:{user.username}", name=user.username,
                  email=getattr(contact, "email", None), phone=getattr(contact, "phone", None),
                  im=getattr(contact, "im", None), language=getattr(user, "language", None))


class UsersDirectory:
    """HQ's user store (``hq.accounts.users.UserStore``) as a directory.

    Uses ``UserStore.in_scope(role, branch_id, hall_id)`` and the contact fields where the
    store has them; a store without scoped roles yields only named users.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    def in_scope(self, role: str, branch_id: str | None, hall_id: str | None) -> list[Person]:
        finder = getattr(self.store, "in_scope", None)
        if finder is None:
            return []
        return [_person(u) for u in finder(role, branch_id, hall_id)
                if getattr(u, "enabled", True)]

    def named(self, username: str) -> Person | None:
        try:
            user = self.store.user(username)
        except Exception:  # an unknown or malformed name reaches nobody
            return None
        return _person(user) if getattr(user, "enabled", True) else None


def staff_person(conn: sqlite3.Connection, staff_no: str) -> Person:
    """The staff member ``staff_no`` with the contacts of their ``org_staff`` row.

    A number not in the staff list is still a person (``listed`` False, no contacts), so
    the deliveries meant for them are recorded as skipped rather than vanish. An events.db
    whose ``org_staff`` predates the contact columns reads as having none.
    """
    have = {r[1] for r in conn.execute("PRAGMA table_info(org_staff)")}
    # Column names from the fixed tuple, never user text.
    cols = ", ".join(c if c in have else f"NULL AS {c}" for c in STAFF_CONTACT_COLUMNS)
    row = conn.execute(f"SELECT name, {cols} FROM org_staff WHERE staff_no = ?",
                       [staff_no]).fetchone() if have else None
    key = STAFF_PREFIX + staff_no
    if row is None:
        return Person(key, staff_no, report_missing=True, listed=False)
    return Person(key, row[0], email=row[2] or None, phone=row[1] or None, im=row[3] or None,
                  report_missing=True)


def missing_reason(person: Person, field: str) -> str:
    """Why ``person`` gets nothing on a channel needing ``field`` (a skipped delivery)."""
    words = FIELD_WORDS.get(field, field)
    number = person.key.removeprefix(STAFF_PREFIX)
    if not person.listed:
        return f"skipped: staff {number} is not in the staff list, so has no {words}"
    if person.key.startswith(STAFF_PREFIX):
        return (f"skipped: staff {number} ({person.name}) has no {words} in the staff "
                "record (set it on the Staff page or in the staff import)")
    return f"skipped: {person.name} has no {words}"


def people(directory: RecipientDirectory, who: Recipients, branch_id: str | None,
           hall_id: str | None, staff: Person | None = None) -> list[Person]:
    """Everyone ``who`` names, once each, in a stable order: the staff member the alert is
    about first (``staff``, when ``who.staff`` asks for them), then roles, users, addresses."""
    found: dict[str, Person] = {}
    if who.staff and staff is not None:
        found[staff.key] = staff
    for role in who.roles:
        for p in directory.in_scope(role, branch_id, hall_id):
            found.setdefault(p.key, p)
    for username in who.users:
        named = directory.named(username)
        if named is not None:
            found.setdefault(named.key, named)
    for a in who.addresses:
        key = f"addr:{a.email or a.phone or a.im or a.name}"
        found.setdefault(key, Person(key, a.name, a.email, a.phone, a.im))
    return list(found.values())
