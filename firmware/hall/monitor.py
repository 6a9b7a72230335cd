"""The hall role's per-frame work: count people per area, raise and clear crowd alerts.

Shared by the daemon (firmware/hall/unit.py) and ``counterunit eval hall`` so the
eval scores exactly what a hall unit decides. Events follow the unit's alert
shape: ``alert_raised`` / ``alert_cleared`` with ``alert = "crowd"`` and an
``episode_id`` (HQ's alert threads already key crowd episodes so), plus the
area, the count, the threshold and, raised, the clip being recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from firmware.hall.config import HallConfig
from firmware.hall.density import AreaState, DensityRule, step
from vision.hall.background import BackgroundParams
from vision.hall.counter import CounterParams, Counts, HallCounter
from vision.hall.tiled import TiledPoseCounter, TileParams


@dataclass(frozen=True, slots=True)
class HallEvent:
    """An event for the store: type, time and data."""

    type: str
    t: float
    data: dict[str, Any]


def counter_from_config(cfg: HallConfig) -> HallCounter | TiledPoseCounter:
    """The configured counter with the config's areas, person scale and rates."""
    areas = {name: a.polygon() for name, a in cfg.areas.items()}
    c = cfg.counter
    if c.type == "tiled_pose":
        from vision.model_files import PACKAGED_DIR, float16_files

        model = float16_files(c.models_dir or PACKAGED_DIR).detector
        return TiledPoseCounter(model, areas, TileParams(
            tile_px=c.tile_px, overlap=c.overlap, min_score=c.min_score, iou=c.iou,
            count_every_s=cfg.count_every_s, threads=c.threads))
    params = CounterParams(
        width=cfg.analysis_width, count_every_s=cfg.count_every_s,
        background=BackgroundParams(history=cfg.background_history,
                                    sample_every_s=cfg.background_every_s,
                                    threshold=cfg.threshold))
    return HallCounter(areas, cfg.person_scale.scale(), params)


def rules_from_config(cfg: HallConfig) -> dict[str, DensityRule]:
    return {name: DensityRule(a.raise_at, a.threshold_clear(), a.raise_hold_s, a.clear_hold_s)
            for name, a in cfg.areas.items()}


@dataclass
class HallMonitor:
    """Counts and crowd state of every area; ``observe`` one frame at a time."""

    cfg: HallConfig
    id_prefix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    counter: HallCounter | TiledPoseCounter = field(init=False)
    rules: dict[str, DensityRule] = field(init=False)
    states: dict[str, AreaState] = field(init=False)
    episodes: dict[str, str] = field(init=False, default_factory=dict)
    last: Counts | None = field(init=False, default=None)
    _seq: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.counter = counter_from_config(self.cfg)
        self.rules = rules_from_config(self.cfg)
        self.states = {name: AreaState() for name in self.rules}

    def wants(self, t: float) -> bool:
        return self.counter.wants(t)

    def observe(self, frame: np.ndarray, t: float) -> list[HallEvent]:
        """Feed one RGB frame; the crowd events its count caused (none between counts)."""
        counts = self.counter.step(frame, t)
        if counts is None:
            return []
        self.last = counts
        return self.decide(counts)

    def decide(self, counts: Counts) -> list[HallEvent]:
        """Crowd events for one count, area by area in config order."""
        out = []
        for name, rule in self.rules.items():
            n = counts.per_area.get(name, 0)
            before = self.states[name]
            self.states[name], change = step(before, n, counts.t, rule)
            if change == "raised":
                self._seq += 1
                episode = f"{self.id_prefix}-crowd-{self._seq}"
                self.episodes[name] = episode
                out.append(HallEvent("alert_raised", counts.t, {
                    "alert": "crowd", "level": 1, "episode_id": episode, "area": name,
                    "count": n, "threshold": rule.raise_at,
                    "held_s": rule.raise_hold_s}))
            elif change == "cleared":
                episode = self.episodes.pop(name, "")
                out.append(HallEvent("alert_cleared", counts.t, {
                    "alert": "crowd", "episode_id": episode, "area": name, "count": n,
                    "threshold": rule.clear_at, "peak": before.peak,
                    "duration_s": round(counts.t - (before.raised_at or counts.t), 3)}))
        return out
