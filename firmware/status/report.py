"""``counterunit status``: one report of what the unit is doing, built from what it left behind.

Sources, all read-only: the daemon's ``status/unit.json``, the sync process's
``status/sync.json``, the database (opened read-only), the data partition, the
model files and the HQ certificate. Nothing here talks to the daemon, so the
report is complete when the daemon is stopped, hung or never ran; each source
that cannot be read becomes a one-line reason in its own section.

``build_report`` gathers a :class:`StatusReport`; ``firmware.status.render``
shows it; ``firmware.cli.status`` is the command.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from firmware.config.unit import UnitConfig
from firmware.status.db import DbFacts, read_db
from firmware.status.host import (
    Certificate,
    Disk,
    Usage,
    Versions,
    certificate,
    disk_facts,
    versions,
)
from firmware.status.live import (
    DAEMON_FRESH_S,
    SYNC_FRESH_S,
    ProcessView,
    SyncLive,
    UnitLive,
    assess,
    parse_sync,
    parse_unit,
    pid_alive,
    read_status_file,
    sync_fresh_until,
)
from firmware.status.publish import SYNC_STATUS, UNIT_STATUS, status_dir
from firmware.system.clock import clock_synchronized

log = logging.getLogger(__name__)

EXIT_ALIVE, EXIT_NOT_ALIVE, EXIT_CONFIG = 0, 1, 2


def _real_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _real_usage(path: Path) -> Usage:
    import shutil

    return Usage(*shutil.disk_usage(path))


@dataclass(frozen=True)
class Probes:
    """The live parts of the host, replaceable in tests."""

    now: Callable[[], dt.datetime] = _real_now
    pid_alive: Callable[[int], bool | None] = pid_alive
    clock_synced: Callable[[], bool] = clock_synchronized
    disk_usage: Callable[[Path], Usage] = _real_usage
    versions: Callable[[Path], Versions] = versions


@dataclass(frozen=True)
class StatusReport:
    """Every fact ``counterunit status`` shows (the --json output is this, as a dict)."""

    now_utc: dt.datetime
    timezone: str
    unit_id: str
    counter_id: str
    data_dir: Path
    daemon: ProcessView
    unit: UnitLive | None
    sync_configured: bool
    hq_url: str | None
    sync: ProcessView
    sync_live: SyncLive | None
    db: DbFacts
    disk: Disk
    clock_synced: bool | None
    versions: Versions | None
    certificate: Certificate | None
    problems: tuple[str, ...] = field(default=())

    @property
    def alive(self) -> bool:
        """The daemon looks alive: its status file is fresh and its pid not known gone."""
        return self.daemon.state == "running"

    @property
    def exit_code(self) -> int:
        return EXIT_ALIVE if self.alive else EXIT_NOT_ALIVE


def day_start(now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Local midnight of ``now``'s day in ``tz``, as aware UTC."""
    local = now.astimezone(tz)
    return dt.datetime.combine(local.date(), dt.time(), tz).astimezone(dt.UTC)


def _process(name: str, path: Path, now: dt.datetime, fresh_for_s: float,
             probes: Probes, parse: Callable[[dict[str, Any]], Any]
             ) -> tuple[ProcessView, Any]:
    doc, problem = read_status_file(path)
    live = None if doc is None else parse(doc)
    pid = doc.get("pid") if doc else None
    alive = probes.pid_alive(pid) if isinstance(pid, int) and not isinstance(pid, bool) else None
    until = sync_fresh_until(live) if isinstance(live, SyncLive) else None
    return assess(name, path, doc, problem, now, fresh_for_s, alive=alive,
                  fresh_until=until), live


def build_report(cfg: UnitConfig, probes: Probes | None = None, *,
                 n_events: int = 8) -> StatusReport:
    """Gather the report for the unit configured by ``cfg``; never raises for what it reads."""
    p = probes or Probes()
    now = p.now()
    data_dir = cfg.unit.data_dir
    tz = ZoneInfo(cfg.unit.timezone)
    problems: list[str] = []

    def guarded(what: str, fn: Callable[[], Any]) -> Any:
        # A status screen that dies on one odd source helps nobody: an
        # unforeseen error costs that section only and is named in the report.
        try:
            return fn()
        except Exception as exc:
            log.debug("status: %s failed", what, exc_info=True)
            problems.append(f"{what}: {type(exc).__name__}: {exc}")
            return None

    folder = status_dir(data_dir)
    daemon, unit = guarded("daemon status", lambda: _process(
        "daemon", folder / UNIT_STATUS, now, DAEMON_FRESH_S, p, parse_unit)) or (
        ProcessView("daemon", folder / UNIT_STATUS, "unreadable", problem="see problems"), None)
    sync, sync_live = guarded("sync status", lambda: _process(
        "sync", folder / SYNC_STATUS, now, SYNC_FRESH_S, p, parse_sync)) or (
        ProcessView("sync", folder / SYNC_STATUS, "unreadable", problem="see problems"), None)
    db = guarded("database", lambda: read_db(data_dir, day_start(now, tz), n_events=n_events))
    identity_dir = (cfg.sync.identity_dir if cfg.sync and cfg.sync.identity_dir
                    else data_dir / "identity")
    from vision.models.manifest import MODELS_DIR

    clock_ok = guarded("clock", p.clock_synced)
    vers = guarded("versions", lambda: p.versions(cfg.vision.models_dir or MODELS_DIR))
    cert = (guarded("certificate", lambda: certificate(identity_dir))
            if cfg.sync is not None or identity_dir.exists() else None)
    return StatusReport(
        now_utc=now, timezone=cfg.unit.timezone, unit_id=cfg.unit.unit_id,
        counter_id=cfg.unit.counter_id, data_dir=data_dir,
        daemon=daemon, unit=unit,
        sync_configured=cfg.sync is not None, hq_url=cfg.sync.hq_url if cfg.sync else None,
        sync=sync, sync_live=sync_live,
        db=db or DbFacts(data_dir / "counterunit.db", exists=True, problems=("see problems",)),
        disk=disk_facts(data_dir, p.disk_usage),
        clock_synced=clock_ok, versions=vers, certificate=cert, problems=tuple(problems),
    )
