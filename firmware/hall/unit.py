"""The hall unit's main loop: camera -> people per area -> crowd events, clips, store.

A unit with ``role = "hall"`` runs this instead of the counter loop. It reuses
the counter unit's parts unchanged: the camera back-end, the microphone and
AAC encoder, the clip book (pre-roll ring, recorder, crash recovery), the
store (events for sync) and the notifier (systemd READY/WATCHDOG). The
decisions are the HallMonitor's (firmware/hall/monitor.py), the same object
``counterunit eval hall`` scores.

A crowd clip starts where the crowd began: the raise is decided
``raise_hold_s`` after that, so the clip reaches back the hold plus the
pre-roll (at most ``MAX_LOOKBACK_S``: the ring holds that much video). It runs
until the crowd clears plus the post-roll.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from audio.encoder import AacEncoder
from firmware.config.unit import UnitConfig
from firmware.daemon.clips import ClipBook
from firmware.hall.config import HallConfig
from firmware.hall.monitor import HallEvent, HallMonitor
from firmware.store import EventContext, Store
from firmware.system.clock import MediaClock, UnitClock, boot_id
from firmware.system.notify import Notifier
from firmware.wiring.devices import build_camera, build_microphone
from hal.camera.base import Camera, Packet
from hal.mic.base import Microphone
from sync.schema import EventEnvelope

log = logging.getLogger(__name__)
MAX_LOOKBACK_S = 60.0


def hall_of(cfg: UnitConfig) -> HallConfig:
    if cfg.hall is None:
        raise ValueError('role = "hall" needs a [hall] section')
    return cfg.hall


def lookback_s(cfg: UnitConfig) -> float:
    """How far before a raise its clip starts (and so how much video the ring keeps)."""
    hold = max(a.raise_hold_s for a in hall_of(cfg).areas.values())
    return cfg.recording.pre_roll_s + min(hold, MAX_LOOKBACK_S - cfg.recording.pre_roll_s)


@dataclass
class HallUnit:
    """Counts people per area and raises crowd alerts; ``run`` until the camera ends."""

    cfg: UnitConfig
    camera: Camera
    microphone: Microphone
    store: Store
    id_prefix: str
    notifier: Notifier = field(default_factory=Notifier)
    on_event: Callable[[EventEnvelope], None] | None = None
    media_clock: MediaClock | None = None
    now: float = 0.0

    def __post_init__(self) -> None:
        self.monitor = HallMonitor(hall_of(self.cfg), self.id_prefix)
        self.stop_event = threading.Event()
        self.clips: ClipBook | None = None
        self.open_clips: dict[str, str] = {}  # area -> clip id

    def request_stop(self) -> None:
        """Ask the loop to end (SIGTERM); open clips are closed on the way out."""
        self.stop_event.set()

    def run(self) -> None:
        """Run until the camera ends or request_stop(); always closes what it opened."""
        self.camera.start()
        try:
            self.microphone.start()
            encoder = AacEncoder(self.microphone.sample_rate)
            self.clips = ClipBook(self.store, self.cfg.unit.data_dir / "clips",
                                  lookback_s(self.cfg) + 2.0, self.camera.video_info,
                                  encoder.info, self.on_event)
            self.clips.recover(self.now)
            for env in self.store.close_interrupted(self.now):
                self._tell(env)
            self.notifier.ready("counting the hall")
            self._loop(encoder)
        finally:
            self._shutdown()
            self.microphone.stop()
            self.camera.stop()

    def _loop(self, encoder: AacEncoder) -> None:
        assert self.clips is not None
        for cap in self.camera.captures():
            self.now = cap.t
            if self.media_clock is not None:
                self.media_clock.t = cap.t
            audio = encoder.encode(self.microphone.read(until=cap.t))
            packets: list[Packet] = sorted([*cap.packets, *audio], key=lambda p: p.pts)
            self.clips.feed(packets)
            frame = cap.frame
            if frame is not None and self.monitor.wants(frame.t):
                for ev in self.monitor.observe(frame.image, frame.t):
                    self._carry_out(ev)
            self.clips.commit_closed(self.now)
            if frame is not None:
                self.notifier.watchdog(self.now)
            if self.stop_event.is_set():
                break

    def _carry_out(self, ev: HallEvent) -> None:
        assert self.clips is not None
        area = str(ev.data["area"])
        data = dict(ev.data)
        if ev.type == "alert_raised" and self.cfg.hall and self.cfg.hall.areas[area].record:
            clip_id = f"{data['episode_id']}-clip"
            self.clips.start(clip_id, "crowd", max(0.0, ev.t - lookback_s(self.cfg)))
            self.open_clips[area] = clip_id
            data["clip_id"] = clip_id
        elif ev.type == "alert_cleared" and area in self.open_clips:
            clip_id = self.open_clips.pop(area)
            self.clips.stop(clip_id, ev.t + self.cfg.recording.post_roll_s)
            data["clip_id"] = clip_id
        self._record(ev.type, ev.t, data)

    def _record(self, type_: str, t: float, data: dict) -> None:
        env = self.store.record(type_, t, data)
        log.info("%s %s", type_, data, extra={"COUNTERUNIT_EVENT": type_,
                                              "COUNTERUNIT_EVENT_ID": env.uuid})
        self._tell(env)

    def _tell(self, env: EventEnvelope) -> None:
        if self.on_event is not None:
            self.on_event(env)

    def _shutdown(self) -> None:
        self.notifier.stopping()
        if self.clips is None:
            return
        for area, clip_id in list(self.open_clips.items()):
            self.clips.stop(clip_id, self.now)
            del self.open_clips[area]
        self.clips.close_all(self.now)


def open_hall_unit(cfg: UnitConfig, *, media_time: bool, media_clock: MediaClock | None = None,
                   on_event: Callable[[EventEnvelope], None] | None = None,
                   id_prefix: str | None = None) -> HallUnit:
    """Wire a hall unit from its config (as ``runner.open_unit`` does a counter)."""
    mclock = media_clock or MediaClock()
    unit_clock = UnitClock.media(mclock) if media_time else UnitClock.live()
    device_clock: Callable[[], float] = mclock if media_time else unit_clock.now
    data_dir = cfg.unit.data_dir
    store = Store(data_dir / "counterunit.db",
                  EventContext(cfg.unit.unit_id, cfg.unit.counter_id, boot_id(), unit_clock))
    try:
        camera = build_camera(cfg, device_clock)
        microphone = build_microphone(cfg, device_clock)
    except BaseException:
        store.close()
        raise
    return HallUnit(cfg, camera, microphone, store, id_prefix or uuid.uuid4().hex[:8],
                    Notifier(), on_event, mclock if media_time else None)
