"""``counterunit sync``: wire the sync process from unit.toml and run it until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware.config.from_hq import ConfigInbox
from firmware.config.unit import SyncConfig, UnitConfig
from firmware.status.publish import SYNC_STATUS, status_dir
from firmware.syncd.refusals import StoreRefusalAlarm
from firmware.syncd.runner import SyncRunner
from firmware.system.notify import Notifier
from sync.hq_client import HQClient, HQError
from sync.identity import IdentityError, UnitIdentity
from sync.outbox import Outbox, OutboxError

log = logging.getLogger("counterunit")

EXIT_OK, EXIT_FAILED = 0, 1


def open_outbox_when_ready(db: Path, stop: threading.Event, poll_s: float) -> Outbox | None:
    """The outbox, once the daemon has created and migrated the database.

    At first boot the sync service may start before the daemon has made its
    database: waiting here (said once) beats exiting and being restarted in a loop.
    """
    said = False
    while not stop.is_set():
        try:
            return Outbox(db)
        except OutboxError as exc:
            if not said:
                log.info("sync waiting for the unit database: %s", exc)
                said = True
        stop.wait(poll_s)
    return None


def run_sync(cfg: UnitConfig, sync_cfg: SyncConfig) -> int:
    """Run until SIGTERM/SIGINT; the exit code for the CLI."""
    identity = UnitIdentity(sync_cfg.identity_dir or cfg.unit.data_dir / "identity")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        identity.recover()  # finish or undo a key rotation a power cut interrupted
        client = HQClient.from_identity(sync_cfg.hq_url, identity)
    except (HQError, IdentityError) as exc:
        print(f"sync cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    notifier = Notifier()
    try:
        outbox = open_outbox_when_ready(cfg.unit.data_dir / "counterunit.db", stop,
                                        sync_cfg.poll_s)
        if outbox is None:
            return EXIT_OK  # stopped while waiting
        alarm = StoreRefusalAlarm(cfg.unit.data_dir / "counterunit.db", cfg.unit.unit_id,
                                  cfg.unit.counter_id)
        runner = SyncRunner(outbox, client, sync_cfg, ZoneInfo(cfg.unit.timezone),
                            inbox=ConfigInbox(cfg.unit.data_dir / "hq-config"),
                            status_file=status_dir(cfg.unit.data_dir) / SYNC_STATUS,
                            identity=identity, unit_id=cfg.unit.unit_id, alarm=alarm)
        notifier.ready("syncing")
        log.info("sync to %s started", sync_cfg.hq_url)
        try:
            runner.run(stop)
        finally:
            notifier.stopping()
            alarm.close()
            outbox.close()
        log.info("sync stopped: %s", runner.stats)
    finally:
        client.close()
    return EXIT_OK
