"""The counter unit's main loop: camera -> vision -> state machine -> store/recorder/keypad.

One thread owns the store, the recorder and the state machine; serial back-ends
queue their input from their own reader threads. The unit's clock is the
capture time of the latest camera output, so the same loop runs live (monotonic
time) and as a replay (media time, as fast as the machine goes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import cast
from zoneinfo import ZoneInfo

import numpy as np

from audio.encoder import AacEncoder
from firmware.config.from_hq import ConfigInbox, Delivery
from firmware.config.unit import UnitConfig
from firmware.daemon.camera_watch import CameraHealth, EpisodeMarker, stall_after, with_heartbeats
from firmware.daemon.clips import ClipBook
from firmware.daemon.hq_config import apply_hq_config
from firmware.daemon.inputs import badge_input, drive_keypad, keypad_input
from firmware.daemon.items_watch import build_items_watch
from firmware.daemon.retention import RetentionKeeper
from firmware.daemon.roster import Roster
from firmware.daemon.rules import ring_seconds, rules_from_config
from firmware.daemon.schedule import is_open, planned_setting
from firmware.daemon.snapshots import SNAPSHOT_DIR, stamp_text, store_snapshot
from firmware.machine.model import (
    Action,
    AnnounceWindowState,
    CounterOpenChanged,
    CounterState,
    Emit,
    Input,
    PlannedStateChanged,
    PresenceChanged,
    Shutdown,
    StartClip,
    StopClip,
    Tick,
)
from firmware.machine.model import Zone as ZoneRole
from firmware.machine.step import step
from firmware.queue_link.link import QueueLink
from firmware.status.publish import UNIT_STATUS, status_dir, unit_snapshot, write_json_atomic
from firmware.store import Store
from firmware.system.clock import MediaClock
from firmware.system.notify import Notifier
from hal.badge.base import BadgeReader
from hal.camera.base import Camera, Capture, Packet
from hal.keypad.base import Keypad
from hal.mic.base import Microphone
from hal.queue.base import QueueFeed
from sync.schema import EventEnvelope
from vision.analyzer import SceneAnalyzer

log = logging.getLogger(__name__)
STATUS_EVERY_S = 2.0
CONFIG_CHECK_S = 5.0


@dataclass
class Devices:
    """The hardware (or its stand-ins) a unit runs on."""

    camera: Camera
    microphone: Microphone
    keypad: Keypad | None = None
    badge: BadgeReader | None = None
    queue: QueueFeed | None = None


@dataclass
class CounterUnit:
    cfg: UnitConfig
    devices: Devices
    store: Store
    analyzer: SceneAnalyzer
    roster: Roster
    id_prefix: str
    notifier: Notifier = field(default_factory=Notifier)
    on_event: Callable[[EventEnvelope], None] | None = None
    media_clock: MediaClock | None = None
    now: float = 0.0
    # Live units: the device clock, for heartbeats while a camera read hangs (None: replay).
    camera_clock: Callable[[], float] | None = None

    def __post_init__(self) -> None:
        self.rules = rules_from_config(self.cfg)
        self.state = CounterState(id_prefix=self.id_prefix)
        self.stop_event = threading.Event()
        self._tz = ZoneInfo(self.cfg.unit.timezone)
        self.clips: ClipBook | None = None
        self._last_frame_t: float | None = None
        self.keeper: RetentionKeeper | None = None
        self.inbox = ConfigInbox(self.cfg.unit.data_dir / "hq-config")
        self._config_check_at = float("-inf")
        self._keeper_failing = False
        self._status_at = float("-inf")
        self._last_image: np.ndarray | None = None  # the newest analysis frame, for snapshots
        self._snapshot_failing = False
        self.camera_health = CameraHealth(stall_after(self.notifier.watchdog_s))
        self._camera_marker = EpisodeMarker(self.cfg.unit.data_dir)
        open_reason = self._camera_marker.load()
        if open_reason is not None:  # an episode from before a restart is still open
            self.camera_health.fail(self.now, open_reason)
        self._planned_key: tuple[str, str] | None = None  # the planned period in force
        self.items = build_items_watch(self.cfg, self.id_prefix)  # None: no counter zone
        self.queue_link: QueueLink | None = None
        if self.cfg.queue is not None and self.devices.queue is not None:
            self.queue_link = QueueLink(self.cfg.queue, self.cfg.unit.counter_id,
                                        self.id_prefix, self.now)

    # ---- public ------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask the loop to end (SIGTERM); open clips are closed on the way out."""
        self.stop_event.set()

    def run(self) -> None:
        """Run until the camera ends or request_stop(); always closes what it opened."""
        dev = self.devices
        dev.camera.start()
        try:
            dev.microphone.start()
            for part in (dev.keypad, dev.badge, dev.queue):
                if part is not None:
                    part.start()
            encoder = AacEncoder(dev.microphone.sample_rate)
            self.clips = ClipBook(self.store, self.cfg.unit.data_dir / "clips",
                                  ring_seconds(self.cfg), dev.camera.video_info, encoder.info,
                                  self.on_event)
            self.clips.recover(self.now)
            current = self.inbox.current()
            if current is not None:  # the last good HQ config survives a restart
                self._apply_hq_config(current, announce=False)
            self.keeper = RetentionKeeper(self.store, self.cfg.unit.data_dir / "clips",
                                          self.cfg.retention)
            for env in self.store.close_interrupted(self.now):
                if self.on_event is not None:
                    self.on_event(env)
            self.apply(AnnounceWindowState())  # HQ's time-in-state starts here
            self.notifier.ready("counting")
            self._loop(encoder)
        finally:
            self._shutdown()
            for part in (dev.queue, dev.badge, dev.keypad):
                if part is not None:
                    part.stop()
            dev.microphone.stop()
            dev.camera.stop()

    # ---- loop ----------------------------------------------------------------------

    def _captures(self) -> Iterator[Capture]:
        caps = self.devices.camera.captures()
        if self.camera_clock is not None:
            caps = with_heartbeats(caps, self.camera_clock)
        try:
            yield from caps
        except Exception as exc:
            # The back-end gave up: say so (once per episode) before the daemon exits.
            self._camera_changed(self.camera_health.fail(self.now, str(exc)[:300]))
            raise

    def _camera_changed(self, change: str | None) -> None:
        if change == "failed":
            reason = self.camera_health.reason
            log.error("camera failed: %s", reason, extra={"COUNTERUNIT_EVENT": "camera_failed"})
            self._camera_marker.open(reason)
            self._record("camera_failed", self.now, {"reason": reason})
        elif change == "recovered":
            log.info("camera recovered: frames again",
                     extra={"COUNTERUNIT_EVENT": "camera_recovered"})
            # A still of what the camera sees again: is it still pointed at the counter?
            snap = self._snapshot(f"{self.id_prefix}-cam{int(self.now * 1000)}-snap", self.now)
            self._record("camera_recovered", self.now, {"reason": "frames again",
                                                        **({"snapshot_id": snap} if snap else {})})
            self._camera_marker.close()

    def _loop(self, encoder: AacEncoder) -> None:
        assert self.clips is not None
        for cap in self._captures():
            self.now = cap.t
            if cap.frame is not None:
                self._last_image = cap.frame.image
            self._camera_changed(self.camera_health.observe(cap.t, cap.frame is not None))
            if self.media_clock is not None:
                self.media_clock.t = cap.t
            audio = encoder.encode(self.devices.microphone.read(until=cap.t))
            packets: list[Packet] = sorted([*cap.packets, *audio], key=lambda p: p.pts)
            self.clips.feed(packets)
            if cap.frame is not None:
                for change in self.analyzer.process(cap.frame.image, cap.frame.t):
                    if change.zone in ("seat", "customer"):  # other zones: later features
                        self.apply(PresenceChanged(cast(ZoneRole, change.zone), change.present,
                                                   change.at, change.previous))
                if self.items is not None:
                    self._watch_items(cap.frame.image, cap.frame.t)
            self._poll_inputs()
            self._poll_queue()
            self._check_schedule()
            self.apply(Tick())
            self.clips.commit_closed(self.now)
            self._keep_disk()
            self._check_hq_config()
            self._publish_status()
            if cap.frame is not None:
                self._last_frame_t = cap.t
                # Honest watchdog: only a loop that got a real frame AND ticked the
                # state machine pings, so a camera that hangs or only sends
                # frame-less heartbeats (device lost) gets the unit restarted.
                self.notifier.watchdog(self.now)
            if self.stop_event.is_set():
                break
        for change in self.analyzer.finish(self.now):  # end of stream: the unseen have left
            if change.zone in ("seat", "customer"):
                self.apply(PresenceChanged(cast(ZoneRole, change.zone), change.present,
                                           change.at, change.previous))

    def _check_hq_config(self) -> None:
        if self.now < self._config_check_at:
            return
        self._config_check_at = self.now + CONFIG_CHECK_S
        delivery = self.inbox.take()
        if delivery is not None:
            self._apply_hq_config(delivery, announce=True)

    def _apply_hq_config(self, delivery: Delivery, *, announce: bool) -> None:
        """Apply HQ's roster/schedule/rules, or refuse them and keep what is in force."""
        result = apply_hq_config(self.cfg, delivery, self.inbox, announce=announce)
        if result.cfg is not None:
            self.cfg = result.cfg
            self.rules = rules_from_config(self.cfg)
        if result.roster is not None:
            self.roster = result.roster
        if result.event is not None:
            self._record(result.event[0], self.now, result.event[1])

    def _keep_disk(self) -> None:
        if self.keeper is None or not self.keeper.due(self.now):
            return
        try:
            events = self.keeper.check(self.now)
        except (OSError, ValueError) as exc:
            # Retention failing must not stop counting or recording; it retries
            # at the next check and says so once per failure.
            if not self._keeper_failing:
                log.error("retention check failed: %s", exc)
            self._keeper_failing = True
            return
        if self._keeper_failing:
            log.info("retention check works again")
        self._keeper_failing = False
        if self.on_event is not None:
            for env in events:
                self.on_event(env)

    def _publish_status(self) -> None:
        if self.now - self._status_at < STATUS_EVERY_S:
            return
        self._status_at = self.now
        clock = self.store.ctx.clock
        doc = unit_snapshot(self.state, self.now, clock.utc_at, last_frame_t=self._last_frame_t,
                            clock_synced=clock.synced())
        try:
            write_json_atomic(status_dir(self.cfg.unit.data_dir) / UNIT_STATUS, doc)
        except OSError as exc:  # status is a convenience; counting goes on
            log.debug("status file not written: %s", exc)

    def _poll_inputs(self) -> None:
        if self.devices.badge is not None:
            for read in self.devices.badge.reads():
                self.apply(badge_input(read.uid, self.cfg, self.roster))
        if self.devices.keypad is not None:
            for ev in self.devices.keypad.events():
                got = keypad_input(ev)
                if isinstance(got, tuple):
                    self._record(got[0], self.now, got[1])
                elif got is not None:
                    self.apply(got)

    def _poll_queue(self) -> None:
        link, feed = self.queue_link, self.devices.queue
        if link is None or feed is None:
            return
        for e in link.poll(feed.readings(), self.now, feed.problem, self.state.transaction):
            self._record(e.type, e.t, e.data)

    def _check_schedule(self) -> None:
        local = self.store.ctx.clock.utc_at(self.now).astimezone(self._tz)
        opened = is_open(self.cfg.schedule.shifts, local)
        if opened != self.state.counter_open:
            self.apply(CounterOpenChanged(opened))
        key, setting = planned_setting(self.cfg.schedule.states, local, self.now)
        if key != self._planned_key:
            self._planned_key = key
            self.apply(PlannedStateChanged(setting))

    def apply(self, event: Input) -> None:
        """Feed one input to the state machine and carry out its actions."""
        self.state, actions = step(self.state, event, self.now, self.rules)
        self._carry_out(actions)

    def _carry_out(self, actions: Iterable[Action]) -> None:
        assert self.clips is not None
        keypad = self.devices.keypad
        for a in actions:
            if isinstance(a, Emit):
                if self.queue_link is not None:  # transactions carry the called ticket
                    a = self.queue_link.decorate(a)
                data = a.data
                if a.type == "alert_raised" and data.get("alert") == "off_seat":
                    snap = self._snapshot(f"{data.get('absence_id')}-snap{data.get('level')}", a.t)
                    data = {**data, "snapshot_id": snap} if snap else data
                self._record(a.type, a.t, data)
            elif isinstance(a, StartClip):
                self.clips.start(a.clip_id, a.kind, a.from_t)
            elif isinstance(a, StopClip):
                self.clips.stop(a.clip_id, a.until_t)
            elif keypad is not None:
                drive_keypad(keypad, a, self.cfg)

    def _watch_items(self, image: np.ndarray, t: float) -> None:
        """Left and taken items on the counter (firmware/daemon/items_watch.py): the event with a
        snapshot and a short clip, and its ``item`` alert."""
        assert self.items is not None and self.clips is not None
        for ev in self.items.frame(image, t, customer=self.state.customer is not False,
                                   staff=self.state.seat is not False):
            snap = clip = None
            if ev.type == "item_left":
                snap, clip = self._snapshot(f"{ev.item_id}-snap", t), f"{ev.item_id}-clip"
                self.clips.start(clip, "item", t - self.cfg.recording.pre_roll_s)
                self.clips.stop(clip, t + self.cfg.items.clip_s)
            for type_, data in self.items.records(ev, snap, clip):
                self._record(type_, t, data)

    def _snapshot(self, snapshot_id: str, t: float) -> str | None:
        """Save the current frame, stamped, as a snapshot queued for upload; its id, or
        None (no frame yet, or the disk refused: the alert goes out without it)."""
        if self._last_image is None:
            return None
        unit = self.cfg.unit
        local = self.store.ctx.clock.utc_at(t).astimezone(self._tz)
        try:
            env = store_snapshot(self.store, unit.data_dir / "clips" / SNAPSHOT_DIR,
                                 snapshot_id, self._last_image,
                                 stamp_text(local, unit.unit_id, unit.counter_id), t)
        except (OSError, ValueError) as exc:
            if not self._snapshot_failing:
                log.error("snapshot %s not saved: %s", snapshot_id, exc)
            self._snapshot_failing = True
            return None
        if self._snapshot_failing:
            log.info("snapshots are saved again")
        self._snapshot_failing = False
        if self.on_event is not None:
            self.on_event(env)
        return snapshot_id

    def _record(self, type_: str, t: float, data: dict) -> None:
        env = self.store.record(type_, t, data)
        if type_.startswith(("alert_", "absence_", "transaction_", "login", "logout", "keypad_")):
            # Upper-case extras become journald fields (COUNTERUNIT_EVENT=...) so a
            # technician can `journalctl COUNTERUNIT_EVENT=alert_raised`.
            fields = {f"COUNTERUNIT_{k.upper()}": v for k, v in data.items()
                      if v is not None and k in ("txn_id", "staff_id", "absence_id", "level")}
            log.info("%s %s", type_, {k: v for k, v in data.items() if v is not None},
                     extra={"COUNTERUNIT_EVENT": type_, "COUNTERUNIT_EVENT_ID": env.uuid,
                            **fields})
        if self.on_event is not None:
            self.on_event(env)

    def _shutdown(self) -> None:
        self.notifier.stopping()
        if self.clips is None:
            return
        self.apply(Shutdown())
        self.clips.close_all(self.now)
