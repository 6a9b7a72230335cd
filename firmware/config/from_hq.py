"""Config pulled from HQ (roster, shift schedule, rules, zones): validated, applied, or refused.

The sync process fetches ``GET /v1/config`` and only *delivers* the bytes into
``<data_dir>/hq-config/`` (it never decides what the unit does); the daemon
picks them up, validates them with the same pydantic models as unit.toml, and
either applies them (``config_applied``) or refuses them (``config_refused``
with every problem), keeping the last good config in force. The last good
document is kept in ``current.json`` so a restart comes back with it.

Zones are applied at the next start, not live: the analyzer's zone trackers are
built from them (a live re-zoning would cut a presence in two mid-visit), so a
``config_applied`` with new zones says ``"pending_restart": ["zones"]`` and
:func:`with_zones_in_force` puts them in place when the daemon next opens.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from firmware.config.items import counter_problems
from firmware.config.unit import (
    ConfigError,
    RulesConfig,
    ScheduleConfig,
    Strict,
    UnitConfig,
    ZoneConfig,
    _format_error,
)
from firmware.daemon.roster import RosterFile
from firmware.status.publish import write_json_atomic

log = logging.getLogger(__name__)

INCOMING, CURRENT, REFUSED = "incoming.json", "current.json", "refused.json"
SOURCE = "HQ config"


class HQConfigDoc(Strict):
    """The document HQ serves at /v1/config; a section left out keeps the local one."""

    version: str = Field("", max_length=64, description="HQ's label for this config.")
    roster: RosterFile | None = Field(None, description="Staff and their badge UID hashes.")
    schedule: ScheduleConfig | None = Field(
        None, description="Opening hours (shifts) and planned closed/away periods (states); "
                          "a key left out keeps the one in force.")
    rules: RulesConfig | None = Field(None, description="Rating window, alert thresholds...")
    zones: dict[str, ZoneConfig] | None = Field(
        None, max_length=16,
        description="Zones by role, as in unit.toml (seat and customer required); "
                    "applied at the next start.")

    @model_validator(mode="after")
    def _zone_roles(self) -> HQConfigDoc:
        if self.zones is not None:
            missing = {"seat", "customer"} - set(self.zones)
            if missing:
                raise ValueError(f"zones must define {sorted(missing)} (roles seat and customer)")
            # The counter zone's rules as unit.toml's (firmware/config/items.py), so a document
            # breaking them is refused on its own, whatever the local config.
            problems = counter_problems(self.zones)
            if problems:
                raise ValueError("; ".join(problems))
        return self


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
    """The unit config with HQ's sections in place of the local ones, and their names.

    The schedule is taken key by key: HQ's ``shifts`` (opening hours) and ``states``
    (planned closed/away periods) each replace the ones in force only when the document
    has that key, so HQ can plan a lunch closure without taking over the opening hours.
    """
    update: dict[str, Any] = {name: getattr(doc, name) for name in ("schedule", "rules")
                              if getattr(doc, name) is not None}
    if doc.schedule is not None:
        update["schedule"] = cfg.schedule.model_copy(update={
            key: getattr(doc.schedule, key) for key in doc.schedule.model_fields_set})
    sections = sorted([*update, *(["roster"] if doc.roster is not None else []),
                       *(["zones"] if doc.zones is not None else [])])
    return cfg.model_copy(update=update), sections


def zone_problems(cfg: UnitConfig, doc: HQConfigDoc) -> list[str]:
    """Rules that tie HQ's zones to the unit's own config (post-roll >= exit hold), as
    unit.toml's validation would state them; [] when the document has no zones."""
    if doc.zones is None:
        return []
    try:
        UnitConfig.model_validate({**cfg.model_dump(), "zones": doc.zones})
    except ValidationError as exc:
        return [f"zones: {_format_error(e)}" for e in exc.errors()]
    return []


def with_zones_in_force(cfg: UnitConfig, directory: Path) -> UnitConfig:
    """The unit config with the zones of the last applied HQ document (``current.json``
    in ``directory``), for the daemon to build its analyzer with at start."""
    current = ConfigInbox(directory).current()
    if current is None:
        return cfg
    try:
        doc = parse_hq_config(current.body)
    except ConfigError:
        return cfg  # never applied, so never current; unreadable: keep unit.toml's
    if doc.zones is None or zone_problems(cfg, doc):
        return cfg
    log.info("zones from HQ config %s in force", current.etag)
    return cfg.model_copy(update={"zones": doc.zones})
