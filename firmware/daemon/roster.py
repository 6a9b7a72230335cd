"""The staff roster: badge UID hash -> staff member (a local TOML file for now).

Only salted hashes of badge UIDs are stored, so a copied roster does not let
anyone clone a badge.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from firmware.config.unit import ConfigError, _format_error
from firmware.machine.model import Staff
from hal.badge.uid import hash_badge_uid


class RosterEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    staff_id: str = Field(..., min_length=1, max_length=64, description="Staff id at HQ.")
    name: str = Field(..., min_length=1, max_length=80, description="Shown on the keypad.")
    staff_number: str = Field(..., min_length=1, max_length=32, description="Staff number.")
    photo_id: str = Field("", max_length=64, description="Photo id shown on the keypad.")
    badge_uid_sha256: tuple[str, ...] = Field(
        ..., min_length=1, max_length=8, description="Salted sha256 of each badge UID."
    )


class RosterFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    staff: tuple[RosterEntry, ...] = Field((), max_length=10_000, description="Staff members.")


class Roster:
    """Badge lookups against a roster."""

    def __init__(self, entries: tuple[RosterEntry, ...], salt: str) -> None:
        self.salt = salt
        self._by_hash = {
            h: Staff(e.staff_id, e.name, e.staff_number, e.photo_id)
            for e in entries for h in e.badge_uid_sha256
        }

    def hash(self, uid: str) -> str:
        return hash_badge_uid(uid, self.salt)

    def lookup(self, uid: str) -> tuple[str, Staff | None]:
        h = self.hash(uid)
        return h, self._by_hash.get(h)

    def __len__(self) -> int:
        return len(self._by_hash)

    @classmethod
    def load(cls, path: Path, salt: str) -> Roster:
        """Read a roster file; a missing file is an empty roster (every badge refused)."""
        if not path.exists():
            return cls((), salt)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            return cls(RosterFile.model_validate(data).staff, salt)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
        except ValidationError as exc:
            raise ConfigError(str(path), [_format_error(e) for e in exc.errors()]) from None
