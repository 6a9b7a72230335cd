"""Build a whole unit from its config: store, back-ends, vision, and the loop."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from firmware.config.from_hq import with_zones_in_force
from firmware.config.unit import UnitConfig
from firmware.daemon.roster import Roster
from firmware.daemon.unit import CounterUnit, Devices
from firmware.store import EventContext, Store
from firmware.system.clock import MediaClock, UnitClock, boot_id
from firmware.system.notify import Notifier
from firmware.wiring.devices import build_badge, build_camera, build_keypad, build_microphone
from firmware.wiring.queue import build_queue_feed
from firmware.wiring.vision import build_analyzer
from hal.badge.base import BadgeReader
from hal.keypad.base import Keypad
from sync.schema import EventEnvelope


@dataclass
class Overrides:
    """Input back-ends that replace the configured serial ones (replay scripts, demo)."""

    keypad: Keypad | None = None
    badge: BadgeReader | None = None
    replace_serial: bool = False


def open_unit(cfg: UnitConfig, *, media_time: bool, media_clock: MediaClock | None = None,
              overrides: Overrides | None = None,
              on_event: Callable[[EventEnvelope], None] | None = None,
              id_prefix: str | None = None,
              wall_base: dt.datetime | None = None) -> CounterUnit:
    """Wire a unit. ``media_time``: the clock is the video's (replay, demo), its time 0
    at ``wall_base`` (default: now)."""
    overrides = overrides or Overrides()
    mclock = media_clock or MediaClock()
    if media_time:
        unit_clock = UnitClock.media(mclock, wall_base)
        device_clock: Callable[[], float] = mclock
    else:
        unit_clock = UnitClock.live()
        device_clock = unit_clock.now
    data_dir = cfg.unit.data_dir
    cfg = with_zones_in_force(cfg, data_dir / "hq-config")  # HQ's zones apply from a start
    store = Store(data_dir / "counterunit.db",
                  EventContext(cfg.unit.unit_id, cfg.unit.counter_id, boot_id(), unit_clock))
    try:
        roster = Roster.load(cfg.roster.path, cfg.roster.uid_salt)
        devices = Devices(
            camera=build_camera(cfg, device_clock),
            microphone=build_microphone(cfg, device_clock),
            keypad=overrides.keypad if overrides.replace_serial else
            (overrides.keypad or build_keypad(cfg, device_clock)),
            badge=overrides.badge if overrides.replace_serial else
            (overrides.badge or build_badge(cfg, device_clock)),
            queue=None if overrides.replace_serial else build_queue_feed(cfg, device_clock),
        )
        # Open the camera before loading the models: a missing or corrupt video
        # is reported at once, and nothing else is printed before the error.
        devices.camera.start()
        try:
            analyzer = build_analyzer(cfg)
        except BaseException:
            devices.camera.stop()
            raise
    except BaseException:
        store.close()
        raise
    return CounterUnit(cfg, devices, store, analyzer, roster, id_prefix or uuid.uuid4().hex[:8],
                       Notifier(), on_event, mclock if media_time else None,
                       camera_clock=None if media_time else device_clock)
