"""Refusals of the organisation's authoring functions; each says which field broke which rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError


class OrgError(Exception):
    """Base of every expected refusal (never a bug)."""


class OrgInvalid(OrgError):
    """Bad values: ``problems`` has one line per field, naming the field and the rule (4xx)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class OrgNotFound(OrgError):
    """An id that names nothing (404)."""


class OrgConflict(OrgError):
    """The change contradicts what is stored, e.g. deleting a branch that still has halls (409)."""


def _loc(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems_of(exc: ValidationError, prefix: str = "") -> list[str]:
    """pydantic's errors as ``field: rule (got value)`` lines."""
    out = []
    for e in exc.errors():
        msg = "required" if e["type"] == "missing" else str(e["msg"]).removeprefix(
            "Value error, ")
        where = prefix + _loc(e["loc"])
        got = "" if e["type"] == "missing" or "input" not in e else f" (got {_shown(e['input'])})"
        if isinstance(e.get("input"), dict):
            got = ""
        out.append(f"{where.rstrip(': ')}: {msg}{got}" if where else f"{msg}{got}")
    return out


class OrgForbidden(OrgError):
    """Outside what the author's scope may change (403)."""
