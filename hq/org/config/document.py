"""The config document a window's units pull (pure): roster, opening hours and rules.

Its format is the unit's :class:`firmware.config.from_hq.HQConfigDoc`; every document is checked
against that model before it is stored, so HQ never serves one the unit would refuse.
A section is included only when HQ authors it, because a section left out keeps the unit's
local one (see :func:`build_document`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from firmware.config.from_hq import HQConfigDoc
from firmware.config.unit import RulesConfig
from hal.badge.uid import hash_badge_uid
from hq.org.records.errors import OrgInvalid, problems_of
from hq.org.records.models import RULE_FIELDS


@dataclass(frozen=True)
class StaffRow:
    """What a roster entry is made of."""

    staff_no: str
    name: str
    badge_uid: str | None
    photo_id: str | None


def roster_entry(s: StaffRow, salt: str) -> dict[str, Any] | None:
    """The unit's RosterEntry for one staff member; None without a badge (cannot log in).

    The badge hash is the unit's own: HMAC-SHA256 keyed by the salt over the normalised UID
    (hal/badge/uid.py), so a badge HQ knows matches the one the unit reads.
    """
    if not s.badge_uid:
        return None
    return {"staff_id": s.staff_no, "name": s.name, "staff_number": s.staff_no,
            "photo_id": s.photo_id or "", "badge_uid_sha256": [hash_badge_uid(s.badge_uid, salt)]}


def resolve_rules(layers: Sequence[Mapping[str, float | None] | None]) -> dict[str, Any] | None:
    """Rules from general to specific (org, branch, hall, window), later fields winning.

    None when no layer is authored (the unit keeps its own rules). Fields no layer sets take
    the unit's defaults (RulesConfig). Raises ValueError naming the rule when the result is
    not something a unit accepts.
    """
    present = [layer for layer in layers if layer is not None]
    if not present:
        return None
    merged: dict[str, float] = {}
    for layer in present:
        merged.update({k: float(v) for k, v in layer.items() if k in RULE_FIELDS and v is not None})
    default = RulesConfig.model_validate({})
    levels = [merged.get(f"off_seat_l{i}_s", default.off_seat_alert_s[i - 1]) for i in (1, 2, 3)]
    doc = {"rating_window_s": merged.get("rating_window_s", default.rating_window_s),
           "off_seat_alert_s": levels,
           "min_transaction_s": merged.get("min_transaction_s", default.min_transaction_s)}
    try:
        RulesConfig.model_validate(doc)
    except ValidationError as exc:
        raise ValueError("; ".join(problems_of(exc))) from None
    return doc


def build_document(version: str, roster: Sequence[dict[str, Any]] | None,
                   shifts: Sequence[dict[str, Any]] | None,
                   rules: dict[str, Any] | None,
                   zones: dict[str, dict[str, float]] | None = None,
                   states: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The document: ``roster`` None leaves the unit's roster alone, ``shifts`` None (or
    empty) its opening hours, ``rules`` None its rules, ``zones`` None its zones, ``states``
    None its planned closed/away periods (``[]``: none planned any more).

    The unit takes the schedule's keys one by one (firmware.config.from_hq.merge): a
    schedule with ``states`` alone leaves the unit's opening hours as they are."""
    doc: dict[str, Any] = {"version": version}
    if roster is not None:
        ids = [str(e["staff_id"]) for e in roster]
        # A roster already in order is kept as the same list (shared between windows).
        staff = roster if ids == sorted(ids) else sorted(roster, key=lambda e: str(e["staff_id"]))
        doc["roster"] = {"staff": staff}
    schedule: dict[str, Any] = {}
    if shifts:
        schedule["shifts"] = list(shifts)
    if states is not None:
        schedule["states"] = list(states)
    if schedule:
        doc["schedule"] = schedule
    if rules is not None:
        doc["rules"] = rules
    if zones is not None:
        doc["zones"] = zones
    return doc


SECTIONS = ("roster", "schedule", "rules", "zones")
# The unit accepts a zones section only with both roles in it (firmware/config/from_hq.py).
ZONE_ROLES = frozenset({"seat", "customer"})


def has_sections(doc: Mapping[str, Any]) -> bool:
    return any(k in doc for k in SECTIONS)


def encode(doc: Mapping[str, Any]) -> bytes:
    """The exact bytes served (the ETag is their sha256): sorted keys, UTF-8, compact."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_digest(doc: Mapping[str, Any], memo: dict[int, str] | None = None) -> str:
    """sha256 of the document without its version: equal content, same digest.

    The roster enters by its own sha256; ``memo`` (by the roster list's id, within one
    refresh) spares encoding a roster shared by many windows again for each.
    """
    rest = {k: v for k, v in doc.items() if k not in ("version", "roster")}
    if "roster" in doc:
        key = id(doc["roster"]["staff"])
        digest = memo.get(key) if memo is not None else None
        if digest is None:
            digest = hashlib.sha256(encode(doc["roster"])).hexdigest()
            if memo is not None:
                memo[key] = digest
        rest["roster"] = digest
    return hashlib.sha256(encode(rest)).hexdigest()


def check_document(doc: Mapping[str, Any], where: str) -> None:
    """OrgInvalid if the unit's own model would refuse ``doc``."""
    try:
        HQConfigDoc.model_validate_json(encode(doc))
    except ValidationError as exc:
        raise OrgInvalid(problems_of(exc, f"config of {where}: ")) from None
