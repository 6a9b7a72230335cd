"""Applying a config HQ delivered (roster, schedule, rules) or refusing it, for the unit loop.

The unit keeps the config in force when HQ's is refused; this module decides which and
what to record, and marks the delivery in the inbox. The loop swaps in what it returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from firmware.config.from_hq import ConfigInbox, Delivery, merge, parse_hq_config, zone_problems
from firmware.config.unit import ConfigError, UnitConfig
from firmware.daemon.roster import Roster

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HqConfigResult:
    """What one delivery came to.

    ``cfg`` is the config now in force (None: refused, the old one stays), ``roster``
    the roster HQ sent (None: unchanged), ``event`` the (type, data) to record (None:
    nothing, as for a restored config that was recorded when it first came)."""

    cfg: UnitConfig | None
    roster: Roster | None
    event: tuple[str, dict] | None


def apply_hq_config(cfg: UnitConfig, delivery: Delivery, inbox: ConfigInbox, *,
                    announce: bool) -> HqConfigResult:
    """Merge HQ's config into ``cfg``, or refuse it; ``announce`` marks and records it."""
    try:
        doc = parse_hq_config(delivery.body)
        zone_errors = zone_problems(cfg, doc)
        if zone_errors:
            raise ConfigError("HQ config", zone_errors)
    except ConfigError as exc:
        if announce:
            inbox.mark(delivery, applied=False, problems=exc.problems)
        log.error("HQ config %s refused, keeping the one in force: %s", delivery.etag,
                  "; ".join(exc.problems))
        return HqConfigResult(None, None, ("config_refused", {
            "etag": delivery.etag, "problems": exc.problems[:50]}))
    # Zones take effect at the next start (see firmware.config.from_hq); say so when they
    # change.
    pending = ["zones"] if doc.zones is not None and doc.zones != cfg.zones else []
    merged, sections = merge(cfg, doc)
    roster = (Roster(doc.roster.staff, merged.roster.uid_salt) if doc.roster is not None
              else None)
    if announce:  # a restored current.json is already recorded as applied
        inbox.mark(delivery, applied=True)
    log.info("HQ config %s (%s) in force: %s%s", delivery.etag, doc.version or "unlabelled",
             ", ".join(sections) or "no sections",
             "; zones changed, applied at the next start" if pending else "")
    event = None
    if announce:
        event = ("config_applied", {
            "etag": delivery.etag, "version": doc.version, "sections": sections,
            "staff": len(doc.roster.staff) if doc.roster is not None else None,
            **({"pending_restart": pending} if pending else {})})
    return HqConfigResult(merged, roster, event)
