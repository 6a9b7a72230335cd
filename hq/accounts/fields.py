"""The fields of an HQ account, each checked: username, role, password, language, contact.

Refusals raise :class:`InvalidAccount` naming the field and the rule (HTTP 400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hq.accounts.passwords import MAX_PASSWORD, MIN_PASSWORD
from hq.accounts.roles import ROLES

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{2,31}")
_MAX_IM = 128


class UserError(ValueError):
    """Base of expected refusals about accounts (never a bug)."""


class InvalidAccount(UserError):
    """A malformed username, unknown role or unacceptable password (HTTP 400)."""


class UserExists(UserError):
    """The username is taken (HTTP 409)."""


class UnknownUser(UserError):
    """No such account (HTTP 404)."""


@dataclass(frozen=True)
class Contact:
    """Where alerts reach a user (helper ``alerts`` sends to these); each optional."""

    email: str | None = None
    phone: str | None = None
    im: str | None = None


def check_username(value: str) -> str:
    """Return ``value`` if it is a well-formed username, else raise InvalidAccount."""
    if not isinstance(value, str) or not _USERNAME.fullmatch(value):
        raise InvalidAccount(f"username {value!r} must match {_USERNAME.pattern}")
    return value


def check_role(value: str) -> str:
    """Return ``value`` if it is a known role, else raise InvalidAccount."""
    if value not in ROLES:
        raise InvalidAccount(f"role {value!r} must be one of {sorted(ROLES)}")
    return value


def check_password(value: str) -> str:
    """Return ``value`` if its length is acceptable, else raise InvalidAccount."""
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise InvalidAccount(
            f"password must be {MIN_PASSWORD}..{MAX_PASSWORD} characters long")
    return value


def check_language(value: str) -> str:
    """Return ``value`` if it is a language HQ's pages speak, else raise InvalidAccount."""
    if value not in LANGUAGES:
        raise InvalidAccount(f"language {value!r} must be one of {list(LANGUAGES)}")
    return value


def check_contact(contact: Contact) -> Contact:
    """Normalise empty fields to None; InvalidAccount naming a malformed one."""
    fields = {k: (v.strip() or None) if isinstance(v, str) else v
              for k, v in vars(contact).items()}
    rules = (("email", _EMAIL, "name@domain"), ("phone", _PHONE, "digits, +, spaces, -"))
    for name, pattern, rule in rules:
        v = fields[name]
        if v is not None and not pattern.fullmatch(v):
            raise InvalidAccount(f"{name} {v!r} must look like {rule}")
    im = fields["im"]
    if im is not None and (len(im) > _MAX_IM or not im.isprintable()):
        raise InvalidAccount(f"im must be at most {_MAX_IM} printable characters")
    return Contact(**fields)
