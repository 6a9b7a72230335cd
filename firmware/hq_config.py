"""Config pulled from HQ (roster, shift schedule, rules): validated, applied, or refused.

The sync process fetches ``GET /v1/config`` and only *delivers* the bytes into
``<data_dir>/hq-config/`` (it never decides what the unit does); the daemon
picks them up, validates them with the same pydantic models as unit.toml, and
either applies them (``config_applied``) or refuses them (``config_refused``
with every problem), keeping the last good config in force. The last good
document is kept in ``current.json`` so a restart comes back with it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from firmware.config import (
    ConfigError,
    RulesConfig,
    ScheduleConfig,
    Strict,
    UnitConfig,
    _format_error,
)
from firmware.live_status import write_json_atomic
from firmware.roster import RosterFile

log = logging.getLogger(__name__)

INCOMING, CURRENT, REFUSED = "incoming.json", "current.json", "refused.json"
SOURCE = "HQ config"


class HQConfigDoc(Strict):
    """The document HQ serves at /v1/config; a section left out keeps the local one."""

    version: str = Field("", max_length=64, description="HQ's label for this config.")
    roster: RosterFile | None = Field(None, description="Staff and their badge UID hashes.")
    schedule: ScheduleConfig | None = Field(None, description="Opening hours (shifts).")
    rules: RulesConfig | None = Field(None, description="Rating window, alert thresholds...")


def parse_hq_config(body: bytes) -> HQConfigDoc:
    """Validate HQ's bytes; raises ConfigError naming every bad key."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(SOURCE, [f"not valid JSON: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(SOURCE, [f"must be a JSON object, got {type(data).__name__}"])
    try:
        return HQConfigDoc.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(SOURCE, [_format_error(e) for e in exc.errors()]) from None


@dataclass(frozen=True)
class Delivery:
    """One document as HQ served it."""

    etag: str
    body: bytes


class ConfigInbox:
    """The hand-over folder between the sync process and the daemon."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    # ---- sync side ------------------------------------------------------------------

    def deliver(self, etag: str, body: bytes) -> None:
        """Hand a fetched document to the daemon (replaces an untaken older one)."""
        write_json_atomic(self.dir / INCOMING, {"etag": etag, "body": body.decode("utf-8",
                                                                                "replace")})

    def last_etag(self) -> str | None:
        """The ETag of the newest document delivered, applied or refused (for
        If-None-Match), so a refused document is not fetched and refused again every poll."""
        for name in (INCOMING, REFUSED, CURRENT):  # refused.json only outlives a newer current
            doc = self._read(name)
            if doc is not None:
                return str(doc["etag"])
        return None

    # ---- daemon side ----------------------------------------------------------------

    def take(self) -> Delivery | None:
        """The waiting document, if any (it stays until marked applied or refused)."""
        doc = self._read(INCOMING)
        return None if doc is None else Delivery(str(doc["etag"]), doc["body"].encode())

    def current(self) -> Delivery | None:
        doc = self._read(CURRENT)
        return None if doc is None else Delivery(str(doc["etag"]), doc["body"].encode())

    def mark(self, delivery: Delivery, *, applied: bool, problems: list[str] | None = None) -> None:
        """Record the outcome: applied -> current.json; refused -> refused.json (with why)."""
        doc: dict[str, Any] = {"etag": delivery.etag, "body": delivery.body.decode("utf-8",
                                                                                  "replace")}
        if problems:
            doc["problems"] = problems
        write_json_atomic(self.dir / (CURRENT if applied else REFUSED), doc)
        if applied:
            (self.dir / REFUSED).unlink(missing_ok=True)
        (self.dir / INCOMING).unlink(missing_ok=True)

    def _read(self, name: str) -> dict[str, Any] | None:
        try:
            doc = json.loads((self.dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(doc, dict) or "etag" not in doc or not isinstance(doc.get("body"), str):
            return None
        return doc


def merge(cfg: UnitConfig, doc: HQConfigDoc) -> tuple[UnitConfig, list[str]]:
    """The unit config with HQ's sections in place of the local ones, and their names."""
    update = {name: getattr(doc, name) for name in ("schedule", "rules")
              if getattr(doc, name) is not None}
    sections = sorted([*update, *(["roster"] if doc.roster is not None else [])])
    return cfg.model_copy(update=update), sections
